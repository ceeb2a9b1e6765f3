# Simpul: `make run` starts the hub, `make test` runs the suite. Both build .venv from the lock file first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PORT ?= 8000
DATA_DIR ?= ./var

.PHONY: run test test-fast chaos fuzz lint fmt lock bench clean help images stack stack-test stack-down screenshots

help:
	@echo "make run    start the whole hub (nats-server, four services, one base URL on :$(PORT))"
	@echo "make test   run the test suite (SQLite always; PostgreSQL too when SIMPUL_TEST_POSTGRES_URL is set), on TEST_WORKERS=$(TEST_WORKERS) processes; prints the coverage (COVERAGE= for none)"
	@echo "make test-fast  the inner loop: the kit, each service and services/ in-process on SQLite (no PostgreSQL, no e2e hubs, chaos, fuzz, bench or deploy)"
	@echo "make chaos  the chaos suite with larger bursts (CHAOS_BURST=$(CHAOS_BURST)); writes docs/reliability.md"
	@echo "make lint   ruff and mypy (the code and tests/)"
	@echo "make bench  measure against the limit; writes docs/performance.md, .json and .png (needs wrk)"
	@echo "make fuzz   the long hostile-input run: FUZZ_EXAMPLES (500) per operation, a random seed (FUZZ_SEED=n replays one);"
	@echo "            with \`schemathesis run --checks all\` against a whole hub, CONFORMANCE_EXAMPLES (50) per operation"
	@echo "make images      every image the compose stack runs, with no registry (stand-ins from Debian's packages)"
	@echo "make stack       the compose stack in the background (3 NATS, PostgreSQL, 2 replicas each, nginx) on"
	@echo "                 127.0.0.1:\$$SIMPUL_STACK_PORT (8080); prints the base URL and the admin key"
	@echo "make stack-test  the integration tests against it, through nginx: a journey, kills, a PostgreSQL restart"
	@echo "make stack-down  remove the stack's containers, networks and volumes"
	@echo "make screenshots  the citizens' portal in a real Chromium, saving each page to $(SCREENSHOTS) (docs/channels.md)"
	@echo "make lock   re-resolve requirements*.lock from pyproject.toml (needs network)"

$(STAMP): requirements-dev.lock pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Simpul needs Python 3.11 or newer")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --require-hashes --no-deps -r requirements-dev.lock
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	@touch $(STAMP)

run: $(STAMP)
	$(BIN)/simpul up --port $(PORT) --data-dir $(DATA_DIR)

# Test files run on TEST_WORKERS processes (pytest-xdist; most tests wait on real servers, not on the CPU).
TEST_WORKERS ?= 3

# Coverage of [tool.coverage.run] source (shared, the four services, services/), in the pytest processes only: the
# hubs that e2e, chaos, bench and deploy tests start as subprocesses are not measured (coverage's subprocess patch
# would slow down the services those tests time and SIGKILL), so what only runs there does not count as covered.
COVERAGE ?= --cov --cov-report=term:skip-covered

test: $(STAMP)
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile $(COVERAGE) $(PYTEST_ARGS)

FAST_TESTS := tests/test_*.py tests/intake_svc tests/routing_svc tests/agency_svc tests/notify_svc tests/services

test-fast: $(STAMP)
	env -u SIMPUL_TEST_POSTGRES_URL $(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile \
		-m "not e2e and not postgres" $(FAST_TESTS) $(PYTEST_ARGS)

bench: $(STAMP)
	$(BIN)/python -m tests.bench

SCREENSHOTS ?= docs/img/portal

# The browser journey (tests/browser, Debian's chromium and chromium-driver) on a hub of its own, saving the pages it
# passes as small PNGs for the docs.
screenshots: $(STAMP)
	SIMPUL_SCREENSHOTS=$(SCREENSHOTS) $(BIN)/python -m pytest tests/browser/test_portal.py -rs $(PYTEST_ARGS)
	@ls -l $(SCREENSHOTS)

CHAOS_BURST ?= 400
CHAOS_RESULTS := var/chaos-results.jsonl

# Every fault on every backend (PostgreSQL too when SIMPUL_TEST_POSTGRES_URL is set), then the table from this run.
chaos: $(STAMP)
	@mkdir -p var && rm -f $(CHAOS_RESULTS)
	@start=$$(date +%s); \
	SIMPUL_CHAOS_BURST=$(CHAOS_BURST) SIMPUL_CHAOS_CONCURRENCY=16 SIMPUL_CHAOS_FULL=1 SIMPUL_CHAOS_RESULTS=$(CHAOS_RESULTS) \
		$(BIN)/python -m pytest tests/chaos/test_faults.py --timeout=1800 -v -s -rs; status=$$?; \
	$(BIN)/python -m tests.chaos.report $(CHAOS_RESULTS) docs/reliability.md --seconds $$(( $$(date +%s) - start )) \
		--command "$(if $(SIMPUL_TEST_POSTGRES_URL),SIMPUL_TEST_POSTGRES_URL=... )make chaos CHAOS_BURST=$(CHAOS_BURST)"; \
	exit $$status

fuzz: $(STAMP)
	@seed=$(or $(FUZZ_SEED),$$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')); \
	echo "make fuzz: $(or $(FUZZ_EXAMPLES),500) examples per operation, seed $$seed (replay: make fuzz FUZZ_SEED=$$seed)"; \
	SIMPUL_FUZZ_EXAMPLES=$(or $(FUZZ_EXAMPLES),500) SIMPUL_FUZZ_SCENARIOS=$(or $(FUZZ_SCENARIOS),200) \
	SIMPUL_CONFORMANCE_EXAMPLES=$(or $(CONFORMANCE_EXAMPLES),50) \
	$(BIN)/python -m pytest tests/fuzz --hypothesis-seed=$$seed $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy shared intake_svc routing_svc agency_svc notify_svc services tests

fmt: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

lock:
	$(BIN)/python -m pip install --quiet uv
	$(BIN)/uv pip compile pyproject.toml --universal --python-version 3.11 --generate-hashes -o requirements.lock
	$(BIN)/uv pip compile pyproject.toml --extra dev --universal --python-version 3.11 --generate-hashes -o requirements-dev.lock

# The compose stack (deploy/compose): Docker only here. Run as root, the targets install Debian's docker.io and start
# dockerd when none answers; elsewhere they say in one line why Docker cannot run, and fail.
images: $(STAMP)
	$(BIN)/python -m services.stack images

stack: $(STAMP)
	$(BIN)/python -m services.stack up

stack-test: $(STAMP)
	$(BIN)/python -m services.stack test -- $(PYTEST_ARGS)

stack-down: $(STAMP)
	$(BIN)/python -m services.stack down

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .coverage .coverage.*
