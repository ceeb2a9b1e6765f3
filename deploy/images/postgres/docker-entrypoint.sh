#!/bin/bash
# The PostgreSQL stand-in's entry point (deploy/images/README.md), with the official image's contract on Debian's
# PostgreSQL 15. On the first start of an empty $PGDATA: initdb as POSTGRES_USER with POSTGRES_PASSWORD, create
# POSTGRES_DB, run /docker-entrypoint-initdb.d/*.sh, *.sql and *.sql.gz against a server that listens only on its
# socket, stop it. Then PostgreSQL replaces this script (PID 1, as the postgres user) and listens on every address;
# TCP logins need a password (scram-sha-256), the socket inside the container is trusted.
set -Eeuo pipefail
shopt -s nullglob

if [ "${1:0:1}" = '-' ]; then
  set -- postgres "$@"
fi
if [ "$1" != postgres ]; then
  exec "$@"
fi

export PGDATA="${PGDATA:-/var/lib/postgresql/data}"
export POSTGRES_USER="${POSTGRES_USER:-postgres}"
export POSTGRES_DB="${POSTGRES_DB:-$POSTGRES_USER}"

if [ "$(id -u)" = 0 ]; then
  # A new volume or a bind mount may belong to root: hand it to postgres (only what is not its already).
  mkdir -p "$PGDATA" /var/run/postgresql
  find "$PGDATA" /var/run/postgresql \! -user postgres -exec chown postgres:postgres '{}' +
  chmod 0700 "$PGDATA"
  chmod 2775 /var/run/postgresql
  exec setpriv --reuid=postgres --regid=postgres --init-groups "$0" "$@"
fi

pwfile=""

log() {
  echo "docker-entrypoint: $*"
}

init_database() {
  local method="${POSTGRES_HOST_AUTH_METHOD:-scram-sha-256}"
  if [ -z "${POSTGRES_PASSWORD:-}" ] && [ "$method" != trust ]; then
    echo "docker-entrypoint: POSTGRES_PASSWORD is empty; a new database needs it (or POSTGRES_HOST_AUTH_METHOD=trust, never in production)" >&2
    exit 1
  fi

  local extra=()
  read -r -a extra <<<"${POSTGRES_INITDB_ARGS:-}"
  if [ -n "${POSTGRES_PASSWORD:-}" ]; then
    pwfile="$(mktemp)"
    trap 'rm -f "$pwfile"' EXIT
    printf '%s\n' "$POSTGRES_PASSWORD" >"$pwfile"
    extra+=(--pwfile="$pwfile")
  fi
  log "initdb in $PGDATA as $POSTGRES_USER"
  initdb --username="$POSTGRES_USER" --auth-local=trust --auth-host="$method" "${extra[@]}"
  [ -z "$pwfile" ] || rm -f "$pwfile"
  trap - EXIT

  printf '\n# Any address, with a password (the stand-in image, as the official one).\nhost all all all %s\n' \
    "$method" >>"$PGDATA/pg_hba.conf"
  printf "\nlisten_addresses = '*'\n" >>"$PGDATA/postgresql.conf"

  log "first start: a server on the socket only, for the database and the init scripts"
  pg_ctl -D "$PGDATA" -o "-c listen_addresses='' -p ${PGPORT:-5432}" -w start

  export PGPASSWORD="${PGPASSWORD:-${POSTGRES_PASSWORD:-}}"
  local psql=(psql -v ON_ERROR_STOP=1 --no-psqlrc --username "$POSTGRES_USER")
  if [ "$POSTGRES_DB" != postgres ]; then
    log "creating database $POSTGRES_DB"
    "${psql[@]}" --dbname postgres --set db="$POSTGRES_DB" <<<'CREATE DATABASE :"db";'
  fi

  local f
  for f in /docker-entrypoint-initdb.d/*; do
    case "$f" in
      *.sh)
        if [ -x "$f" ]; then
          log "running $f"
          "$f"
        else
          log "sourcing $f"
          # shellcheck disable=SC1090
          . "$f"
        fi
        ;;
      *.sql)
        log "running $f"
        "${psql[@]}" --dbname "$POSTGRES_DB" -f "$f"
        ;;
      *.sql.gz)
        log "running $f"
        gunzip -c "$f" | "${psql[@]}" --dbname "$POSTGRES_DB"
        ;;
      *) log "ignoring $f" ;;
    esac
  done

  pg_ctl -D "$PGDATA" -m fast -w stop
  unset PGPASSWORD
  log "first start done"
}

if [ ! -s "$PGDATA/PG_VERSION" ]; then
  init_database
fi

exec "$@"
