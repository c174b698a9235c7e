# SECPLAC San Antonio — territorial planning platform.
#   make run    install what is missing, start PostGIS, load the data, serve on :8000
#   make test   the same set-up, then the whole suite on a throwaway PostGIS
#   make bench  benchmarks (JSON results in bench/results/)
#   make notebooks  the same set-up, then JupyterLab on the project's database (notebooks/)

VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp
BENCH_STAMP := $(VENV)/.bench-installed-stamp
PYTHON ?= python3

.PHONY: setup system python frontend run test bench lint notebooks clean-db

setup: system python frontend

system:
	@bash scripts/install-system.sh

python: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install -q --disable-pip-version-check -e '.[dev]'
	@touch $(STAMP)

# Front-end packages from the npm registry, served locally by the API (no CDN).
frontend: node_modules/.installed-stamp

node_modules/.installed-stamp: package.json package-lock.json
	@npm ci --no-audit --no-fund --loglevel=error
	@touch $@

run: setup
	@$(VENV)/bin/secplac run

# Both cores: each pytest-xdist worker starts its own PostgreSQL cluster; a test file runs
# whole on one worker (its module and package fixtures are built once).
TEST_WORKERS ?= 2

test: setup
	@$(PY) -m pytest -q -n $(TEST_WORKERS) --dist loadfile --durations=15 $(PYTEST_ARGS)

# Benchmark-only dependencies (tipg, the tiles benchmark's reference server).
$(BENCH_STAMP): pyproject.toml $(STAMP)
	@$(PY) -m pip install -q --disable-pip-version-check -e '.[dev,bench]'
	@touch $@

bench: setup $(BENCH_STAMP)
	@$(PY) -m bench

# JupyterLab (optional group "notebooks", installed on first use) over the project's
# database, set up as `make run` does: the local PostGIS (or DATABASE_URL) started and
# migrated, the demo data loaded if it is empty. Kernels inherit this environment, so
# gis.Settings() in a notebook finds the same database. JUPYTER_ARGS=--no-browser etc.
NB_STAMP := $(VENV)/.notebooks-installed-stamp
JUPYTER_ARGS ?=
JUPYTER_AS_ROOT := $(if $(filter 0,$(shell id -u)),--allow-root)  # as the database does

$(NB_STAMP): pyproject.toml $(STAMP)
	@$(PY) -m pip install -q --disable-pip-version-check -e '.[dev,notebooks]'
	@touch $@

notebooks: setup $(NB_STAMP)
	@$(VENV)/bin/secplac db up
	@$(VENV)/bin/secplac demo load --si-vacia
	@echo "JupyterLab sobre la base del proyecto (Ctrl-C para salir; la base sigue en marcha: «$(VENV)/bin/secplac db down» la detiene)."
	@$(VENV)/bin/jupyter lab --notebook-dir=notebooks $(JUPYTER_AS_ROOT) $(JUPYTER_ARGS)

lint: setup
	@$(VENV)/bin/ruff check gis api layers tests bench
	@$(VENV)/bin/mypy gis api layers

clean-db:
	@$(VENV)/bin/secplac db down || true
	rm -rf var/postgres
