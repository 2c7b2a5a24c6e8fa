# GoatedVIPs: `make run` serves the site in embedded mode, `make test` runs every check.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

# The development configuration unless the caller says otherwise: DEBUG defaults to off in the settings (a deploy
# that forgets it must not serve debug pages), so `make run`, the tests and the checks ask for it here.
export DEBUG ?= 1

PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
HOST ?= 127.0.0.1
PORT ?= 8000

# PostgreSQL + Redis used by the second test run (pytest-django creates and drops test_<name> itself).
PG_URL ?= postgres://postgres@127.0.0.1:5432/test
REDIS_TEST_URL ?= redis://127.0.0.1:6379/15
# A production-like environment for `check --deploy` (throwaway values, never used to serve anything).
DEPLOY_ENV := DEBUG=0 SECRET_KEY=deploy-check-$$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n') \
	ALLOWED_HOSTS=goatedvips.example CSRF_TRUSTED_ORIGINS=https://goatedvips.example \
	DATABASE_URL=$(PG_URL) REDIS_URL=redis://127.0.0.1:6379/0 \
	TOKEN_ENCRYPTION_KEY=$$(head -c 32 /dev/urandom | base64 | tr '+/' '-_')

.PHONY: visual-update help run run-scaled sentinel-stop bench-failover bench-load chaos backup restore bench-backup serve migrate seed test test-fast test-suites test-sqlite test-postgres test-postgres-tools test-e2e lint format checks services clean bench-sync bench-sync-large bench-fanout bench-http bench-pages bench-go scan

help:
	@echo "make run    - install, migrate, seed demo data and serve http://$(HOST):$(PORT) (embedded mode)"
	@echo "make test   - lint, migration and deploy checks, the suite on SQLite, PostgreSQL + Redis, and in Chromium"
	@echo "make test-fast  - the suite on SQLite only, no browser (the inner loop)"
	@echo "make test-sqlite | test-postgres | test-e2e | lint | format | checks"
	@echo "make backup | restore FILE=var/backups/goatedvips-<stamp>.dump [TARGET=postgres://...] [REPLACE=1]"

$(VENV)/bin/activate:
	$(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

$(VENV)/.runtime: requirements.txt | $(VENV)/bin/activate
	$(PIP) install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

$(VENV)/.dev: requirements.txt requirements-dev.txt | $(VENV)/bin/activate
	$(PIP) install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@ $(VENV)/.runtime

migrate: $(VENV)/.runtime
	$(PY) manage.py migrate --noinput

seed: migrate
	$(PY) manage.py seed_demo
	# 90 days of generated history so the dashboard's charts have something to show (once; demo only).
	$(PY) manage.py seed_history --days 90

run: seed
	$(PY) manage.py serve --host $(HOST) --port $(PORT)

# The production topology on this machine: PostgreSQL + Redis, nginx on :8000 and :8443 (TLS, a self-signed
# certificate in var/nginx/tls; deploy/nginx.conf) in front of two uvicorn processes, a worker, beat (and the bot
# with a token). nginx serves /static/ from STATIC_ROOT. Metrics of every process are summed (PROMETHEUS_MULTIPROC_DIR).
# SENTINEL=1: Redis through Sentinel instead (a primary :6385, a replica :6386, sentinels :26385-26387, all in
# var/redis-sentinel/ and left running like PostgreSQL; `make sentinel-stop` stops them; docs/operations.md).
SCALED_DB ?= postgres://postgres@127.0.0.1:5432/goatedvips
SENTINEL ?=
ifeq ($(SENTINEL),1)
SCALED_REDIS := REDIS_SENTINELS=127.0.0.1:26385,127.0.0.1:26386,127.0.0.1:26387 REDIS_SENTINEL_MASTER=goatedvips
else
SCALED_REDIS := REDIS_URL=redis://127.0.0.1:6379/1
endif
SCALED_ENV := DATABASE_URL=$(SCALED_DB) $(SCALED_REDIS) PROMETHEUS_MULTIPROC_DIR=$(CURDIR)/var/prometheus \
	TRUSTED_PROXY_HOPS=1
run-scaled: $(VENV)/.dev services
	$(if $(filter 1,$(SENTINEL)),$(PY) scripts/redis_sentinel.py start --dir var/redis-sentinel)
	psql -h 127.0.0.1 -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname='goatedvips'" | grep -q 1 || \
		createdb -h 127.0.0.1 -U postgres goatedvips
	rm -rf var/prometheus && mkdir -p var/prometheus
	$(SCALED_ENV) $(PY) manage.py migrate --noinput
	$(SCALED_ENV) $(PY) manage.py seed_demo
	$(SCALED_ENV) $(PY) manage.py collectstatic --noinput -v0
	$(SCALED_ENV) PATH=$(CURDIR)/$(VENV)/bin:$$PATH $(VENV)/bin/honcho start -f Procfile.scaled

sentinel-stop:
	$(PY) scripts/redis_sentinel.py stop --dir var/redis-sentinel

# 50 users while the Redis primary behind Sentinel is killed (a Sentinel set of its own, one uvicorn on :8032);
# figures: docs/operations.md, "Redis Sentinel".
bench-failover: $(VENV)/.dev services
	$(PY) bench/failover.py --users 50

# 200 simulated users for 60 s against the scaled topology (started and stopped here); figures: docs/performance.md.
bench-load: $(VENV)/.dev services
	$(PY) bench/load.py --start-topology --users 200 --seconds 60

# The chaos suite (bench/chaos.py; docs/operations.md, "Chaos suite"): the scaled topology on a PostgreSQL (:5440) and
# a Redis (:6390) of its own under 50 simulated users, faults injected one by one, a table, non-zero on any failed
# check. PROFILE=short: shorter waits, within 5 minutes (CI runs it after `make test`).
chaos: $(VENV)/.dev
	$(PY) bench/chaos.py $(if $(filter short,$(PROFILE)),--short)

# Backups (docs/operations.md, "Backups"): a pg_dump of DATABASE_URL (PostgreSQL only) into var/backups/ with a
# manifest beside it; a restore goes into a fresh database (TARGET, default <name>_restored_<stamp> on the same
# server) and is verified against the manifest (row counts, money checksums): non-zero exit on any difference.
backup: $(VENV)/.runtime
	$(PY) manage.py backup

restore: $(VENV)/.runtime
	@test -n "$(FILE)" || { echo "usage: make restore FILE=var/backups/goatedvips-<stamp>.dump [TARGET=postgres://...] [REPLACE=1]" >&2; exit 2; }
	$(PY) manage.py restore "$(FILE)" $(if $(TARGET),--target "$(TARGET)") $(if $(REPLACE),--replace)

# 100,000 players backed up, restored into a fresh database and verified (scratch databases bk_bench_*).
bench-backup: $(VENV)/.dev services
	$(PY) bench/backup.py

lint: $(VENV)/.dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

checks: $(VENV)/.dev
	$(PY) manage.py check --fail-level WARNING
	$(PY) manage.py makemigrations --check --dry-run
	@echo "check --deploy with a production-like environment:"
	$(DEPLOY_ENV) $(PY) manage.py check --deploy --fail-level WARNING

test-sqlite: $(VENV)/.dev
	@echo "=== test suite on SQLite (embedded mode: in-memory channel layer, local-memory cache; two xdist workers) ==="
	env -u DATABASE_URL -u REDIS_URL $(PY) -m pytest -m "not e2e and not postgres and not once" -p no:playwright -n 2 \
		--durations=10

# The inner loop: the whole suite on SQLite in two workers (pytest-xdist: each has its own SQLite file and Redis
# database for its child servers), no browser, no PostgreSQL, no lint (figures: docs/testing.md).
test-fast: $(VENV)/.dev
	env -u DATABASE_URL -u REDIS_URL $(PY) -m pytest -m "not e2e" -p no:playwright -q -n 2 --durations=5

services:
	@bash .ci/services.sh

test-postgres: $(VENV)/.dev services
	@echo "=== test suite on PostgreSQL + Redis ($(PG_URL), $(REDIS_TEST_URL); two xdist workers) ==="
	DATABASE_URL=$(PG_URL) DATABASE_REPLICA_URL=$(PG_URL)_replica REDIS_URL=$(REDIS_TEST_URL) \
		$(PY) -m pytest -p tests.xdist_redis -m "not e2e and not postgres and not once" -p no:playwright --create-db -n 2 \
		--durations=10

# The two modules that test PostgreSQL itself (the restore drill, the month partitions: marker postgres) and the one
# that tests Redis Sentinel failover on servers of its own (marker once), in a run of their own beside the others:
# they make scratch databases on the server at BACKUP_DRILL_POSTGRES_URL, and Redis servers on free ports.
test-postgres-tools: $(VENV)/.dev services
	@echo "=== PostgreSQL's own tests (the restore drill, the month partitions) and the Redis Sentinel failover ==="
	env -u DATABASE_URL -u REDIS_URL TEST_SERVERS_REDIS_URL=redis://127.0.0.1:6379/9 \
		$(PY) -m pytest -m "postgres or once" -p no:playwright --durations=5

# New visual baselines after an intended change of a page (tests/e2e/test_visual.py); look at them, then commit.
visual-update: $(VENV)/.dev
	UPDATE_BASELINES=1 env -u REDIS_URL DATABASE_URL=sqlite:///$(CURDIR)/var/e2e.sqlite3 \
		DATABASE_REPLICA_URL=sqlite:///$(CURDIR)/var/e2e-replica.sqlite3 DJANGO_ALLOW_ASYNC_UNSAFE=true \
		$(PY) -m pytest tests/e2e/test_visual.py -m e2e -p no:asyncio -q

# SQLite files of their own (var/test-e2e*.sqlite3), so the browser tests can run beside the SQLite suite.
test-e2e: $(VENV)/.dev
	@echo "=== browser tests in headless Chromium ==="
	env -u REDIS_URL DATABASE_URL=sqlite:///$(CURDIR)/var/e2e.sqlite3 \
		DATABASE_REPLICA_URL=sqlite:///$(CURDIR)/var/e2e-replica.sqlite3 DJANGO_ALLOW_ASYNC_UNSAFE=true \
		TEST_SERVERS_REDIS_URL=redis://127.0.0.1:6379/10 $(PY) -m pytest tests/e2e -m e2e -p no:asyncio

# The four runs share nothing (SQLite files of their own and in-process layers, the SQLite run's child servers on
# Redis databases 12 and 11; PostgreSQL test databases per worker and Redis databases 15 and 14; the browser run's
# own SQLite files and Redis database 10; the PostgreSQL tools' scratch databases and Redis 9), and most of their time
# is spent waiting on sockets, servers and the browser, so `make test` runs them side by side on two cores
# (figures: docs/testing.md). Each run's output is printed, whole, when it ends.
test-suites: $(VENV)/.dev services
	@echo "=== the SQLite, PostgreSQL and browser suites side by side (each one's output is printed when it ends) ==="
	@$(MAKE) --no-print-directory -j4 --output-sync=target test-sqlite test-postgres test-postgres-tools test-e2e

test: lint checks test-suites
	@echo "All checks passed."

bench-sync: $(VENV)/.dev services
	$(PY) bench/sync.py

# 500,000 players, the per-row loop left out (it would take an hour): peak RSS and the COPY-floor ratios.
bench-sync-large: $(VENV)/.dev services
	$(PY) bench/sync.py --players 500000 --no-naive

bench-fanout: $(VENV)/.dev services
	$(PY) bench/fanout.py --clients 1000 --servers 2 --client-procs 2
	$(PY) bench/fanout.py --clients 5000 --servers 4 --client-procs 4 --rounds 30
	$(PY) bench/fanout.py --freshness --clients 5000 --servers 4 --client-procs 4 --rounds 30

bench-pages: $(VENV)/.dev services
	$(PY) bench/pages.py

bench-http: $(VENV)/.dev services
	$(PY) bench/leaderboard_http.py

# 1,000 clicks on /go/<slug>/ (50 at a time, crawlers, HEADs and prefetches mixed in), the flush, then the staff
# CSV against what was sent; a database of its own (gb_go_*, dropped). Figures: docs/analytics.md, "Referral burst".
bench-go: $(VENV)/.dev services
	$(PY) bench/go.py

scan: $(VENV)/.runtime
	bash scripts/scan.sh

format: $(VENV)/.dev
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

clean:
	rm -rf $(VENV) staticfiles .pytest_cache .ruff_cache db.sqlite3 db.sqlite3-wal db.sqlite3-shm
