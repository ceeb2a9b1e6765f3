#!/bin/sh
# The image's entry point: the first argument is the role this container plays.
set -eu

usage() {
  cat <<'USAGE'
usage: simpul-entrypoint ROLE [ARGS]
  intake | routing | agency | notify   serve that service (SIMPUL_<SERVICE>_* configure it; port 8000)
  gateway                              the merged /docs and /openapi.json, and /readyz of all four (port 8000)
  web                                  the citizens' portal (SIMPUL_WEB_*; port 8000)
  email-door                           the email door (SIMPUL_EMAIL_*, a channel key in SIMPUL_EMAIL_API_KEY;
                                       SMTP on 2525, /healthz on 8025)
  migrate SERVICE                      apply one service's migrations (SIMPUL_<SERVICE>_DATABASE_URL, _SCHEMA)
  migrate-all                          apply the four services' migrations, one after the other
  streams                              create the three streams as ops (SIMPUL_NATS_URL, SIMPUL_NATS_USER,
                                       SIMPUL_NATS_PASSWORD, SIMPUL_STREAM_REPLICAS)
  probe PORT PATH...                   exit 0 when every PATH on 127.0.0.1:PORT answers 2xx (healthchecks)
  simpul ARGS...                       the simpul command line (dlq, audit, ...)
  anything else                        run as a command
USAGE
}

service_package() {
  case "$1" in
    intake | routing | agency | notify) echo "$1_svc" ;;
    *) echo "unknown service '$1' (intake, routing, agency, notify)" >&2; exit 64 ;;
  esac
}

role="${1:-help}"
[ "$#" -gt 0 ] && shift

case "$role" in
  intake | routing | agency | notify)
    package="$(service_package "$role")"
    exec python -m "$package" serve
    ;;
  gateway)
    exec python -m services.gateway_serve
    ;;
  web)
    exec python -m services.web
    ;;
  email-door)
    if [ -z "${SIMPUL_EMAIL_API_KEY:-}" ]; then
      echo "email-door: SIMPUL_EMAIL_API_KEY is empty: issue a channel key (POST /api/v1/hub/api-keys" \
        '{"role": "channel", "label": "email door"}) and set it' >&2
      exit 64
    fi
    exec python -m services.doors.email
    ;;
  migrate)
    [ "$#" -eq 1 ] || { usage >&2; exit 64; }
    package="$(service_package "$1")" || exit $?
    exec python -m "$package" migrate
    ;;
  migrate-all)
    for service in intake routing agency notify; do
      echo "migrating $service"
      python -m "${service}_svc" migrate
    done
    echo "all migrated"
    ;;
  streams)
    exec python -m services.streams_cli "$@"
    ;;
  probe)
    [ "$#" -ge 2 ] || { usage >&2; exit 64; }
    exec python - "$@" <<'PROBE'
import sys
import urllib.request

port, paths = sys.argv[1], sys.argv[2:]
for path in paths:
    urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=3).close()  # raises unless 2xx/3xx
PROBE
    ;;
  simpul)
    exec python -m services.cli "$@"
    ;;
  help | -h | --help)
    usage
    ;;
  *)
    exec "$role" "$@"
    ;;
esac
