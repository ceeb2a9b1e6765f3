#!/usr/bin/env sh
# The integration target: bring the stack up, wait until it is healthy, then run the end-to-end journey against it
# through the proxy, nginx (tests/e2e/test_stack_journey.py, in the image's `e2e` stage). Needs Compose v2.
#
#   SIMPUL_E2E_ADMIN_KEY=sk_admin_... ./e2e.sh        the admin key gen-env.sh printed; extra arguments go to pytest
set -eu
cd "$(dirname "$0")"
: "${SIMPUL_E2E_ADMIN_KEY:?set SIMPUL_E2E_ADMIN_KEY to the admin key gen-env.sh printed}"
export SIMPUL_E2E_ADMIN_KEY
docker compose up -d --build --wait
docker compose --profile e2e build e2e
exec docker compose --profile e2e run --rm e2e tests/e2e/test_stack_journey.py -v "$@"
