#!/bin/sh
# Runs once, when the postgres volume is first initialised: for each service, the role named in its
# SIMPUL_<SERVICE>_DATABASE_URL (postgresql+asyncpg://ROLE:PASSWORD@postgres:5432/simpul) and its schema, owned by
# that role. No service can read another's schema. A later change of password: ALTER ROLE ... PASSWORD.
set -eu

for service in INTAKE ROUTING AGENCY NOTIFY; do
  eval "url=\${SIMPUL_${service}_DATABASE_URL}"
  eval "schema=\${SIMPUL_${service}_DATABASE_SCHEMA}"
  credentials=$(printf '%s' "$url" | sed -n -E 's#^postgresql(\+asyncpg)?://([A-Za-z_][A-Za-z0-9_]*):([^@]+)@.*$#\2 \3#p')
  if [ -z "$credentials" ]; then
    echo "SIMPUL_${service}_DATABASE_URL must look like postgresql+asyncpg://ROLE:PASSWORD@postgres:5432/simpul" >&2
    exit 1
  fi
  role=${credentials%% *}
  password=${credentials#* }
  echo "simpul: role $role and schema $schema"
  psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
    -v role="$role" -v password="$password" -v schema="$schema" -v db="$POSTGRES_DB" <<'SQL'
CREATE ROLE :"role" LOGIN PASSWORD :'password';
CREATE SCHEMA :"schema" AUTHORIZATION :"role";
-- The migrations run CREATE SCHEMA IF NOT EXISTS, which asks for this privilege even when the schema exists.
GRANT CREATE ON DATABASE :"db" TO :"role";
SQL
done
