#!/bin/sh
# Make every secret of the compose stack and print a complete .env:   ./gen-env.sh > .env && chmod 600 .env
# The first admin key is printed once on standard error; .env keeps only its SHA-256. Needs openssl and sha256sum.
set -eu

fernet() { openssl rand -base64 32 | tr '+/' '-_'; }   # 32 random bytes, url-safe base64: a Fernet key
password() { openssl rand -hex 32; }                      # 256 bits, safe in URLs and in NATS config

admin_key="sk_admin_$(openssl rand -base64 32 | tr '+/' '-_' | tr -d '=')"
admin_hash=$(printf '%s' "$admin_key" | sha256sum | cut -d' ' -f1)
identity_keys=$(fernet)
contact_keys=$(fernet)
files_keys=$(fernet)
reply_secret=$(password)

cat <<ENV
# Simpul compose secrets, made by gen-env.sh on $(date -u +%Y-%m-%dT%H:%M:%SZ). Keep this file private (chmod 600).
COMPOSE_PROJECT_NAME=simpul
SIMPUL_IMAGE=simpul:local
SIMPUL_HTTP_PORT=8080
SIMPUL_PUBLIC_BASE_URL=http://localhost:8080
SIMPUL_EDGE_SUBNET=172.30.80.0/24

SIMPUL_BOOTSTRAP_ADMIN_KEY_HASH=$admin_hash

POSTGRES_PASSWORD=$(password)
ENV
for service in intake routing agency notify; do
  upper=$(printf '%s' "$service" | tr '[:lower:]' '[:upper:]')
  cat <<ENV
SIMPUL_${upper}_DATABASE_URL=postgresql+asyncpg://simpul_${service}:$(password)@postgres:5432/simpul
SIMPUL_${upper}_DATABASE_SCHEMA=simpul_${service}
ENV
done
echo
for user in intake routing agency notify ops; do
  upper=$(printf '%s' "$user" | tr '[:lower:]' '[:upper:]')
  echo "SIMPUL_${upper}_NATS_PASSWORD=$(password)"
done
echo "SIMPUL_NATS_ROUTE_PASSWORD=$(password)"
echo
for service in intake routing agency notify; do
  upper=$(printf '%s' "$service" | tr '[:lower:]' '[:upper:]')
  echo "SIMPUL_${upper}_ENCRYPTION_KEYS=$(fernet)"
done
cat <<ENV
SIMPUL_INTAKE_IDENTITY_KEYS=$identity_keys
SIMPUL_ROUTING_IDENTITY_KEYS=$identity_keys
SIMPUL_AGENCY_IDENTITY_KEYS=$identity_keys
SIMPUL_INTAKE_CONTACT_KEYS=$contact_keys
SIMPUL_NOTIFY_CONTACT_KEYS=$contact_keys
SIMPUL_INTAKE_FILES_KEYS=$files_keys
SIMPUL_ROUTING_FILES_KEYS=$files_keys
SIMPUL_AGENCY_FILES_KEYS=$files_keys

SIMPUL_WEB_SECRET=$(password)
SIMPUL_INTAKE_SMS_SIGNING_SECRET=$(password)
SIMPUL_INTAKE_SMS_KEYWORDS=
SIMPUL_NOTIFY_REPLY_SECRET=$reply_secret
SIMPUL_EMAIL_REPLY_SECRET=$reply_secret
# The email door (the compose profile \`email\`) needs a channel key, issued once the stack runs (.env.example).
SIMPUL_EMAIL_API_KEY=
ENV

echo "The first admin key (shown this once; .env keeps only its hash): $admin_key" >&2
