# A fresh clone needs exactly two commands: `make run` and `make test`.
# Every target first makes sure .venv exists and matches pyproject.toml (a stamp
# file keeps that instant when nothing changed). PostgreSQL and Redis come from
# DATABASE_URL / REDIS_URL when set, else embedded servers under var/
# (scripts/services.py). See docs/operations.md.

PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3 2>/dev/null)
VENV := .venv
PY := $(VENV)/bin/python
UV := $(VENV)/bin/uv
UV_VERSION := 0.13.9
STAMP := $(VENV)/.deps-installed
ARGS ?=
TEST_WORKERS ?= auto
# Directories that are not ours to translate or compile.
I18N_IGNORE := --ignore=.venv --ignore=var --ignore=node_modules --ignore=static/vendor --ignore=test-artifacts --ignore=tests

.DEFAULT_GOAL := help
.PHONY: help venv sysdeps-test sysdeps-gettext nodedeps-test compilemessages test run lint fmt \
	schema bench bench-imports faults messages clean

help:
	@echo "make run        start the platform with demo data (PORT=8000 SIM_PORT=8100)"
	@echo "make test       run the test suite (pytest arguments: ARGS='-k name -x'; TEST_WORKERS=0 serial)"
	@echo "make lint       ruff check + ruff format --check"
	@echo "make fmt        ruff --fix + ruff format"
	@echo "make schema     regenerate openapi.yaml"
	@echo "make bench      run the benchmarks (ARGS passed on)"
	@echo "make bench-imports  the historical import alone: rows/s (ARGS='--rows 100000')"
	@echo "make faults     run the fault-injection scenarios"
	@echo "make messages   update locale/*.po and compile them"
	@echo "make clean      stop the embedded servers and delete var/ (all local data)"

# --- bootstrap ------------------------------------------------------------------

# $(call apt_install,PACKAGES): install Debian packages when we can (root, or
# password-less sudo); otherwise, or if apt fails, warn and carry on: the step that
# needs the package then fails with its own, more specific message.
define apt_install
if ! command -v apt-get >/dev/null 2>&1; then \
	echo "make: WARNING: no apt-get; please install: $(1)" >&2; \
elif [ "$$(id -u)" = 0 ]; then \
	{ apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y $(1); } \
	|| echo "make: WARNING: apt-get install $(1) failed" >&2; \
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then \
	{ sudo apt-get update && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y $(1); } \
	|| echo "make: WARNING: apt-get install $(1) failed" >&2; \
else \
	echo "make: WARNING: not root; please run: sudo apt-get install -y $(1)" >&2; \
fi
endef

$(PY):
	@if [ -z "$(PYTHON)" ]; then \
		echo "make: python3.11 not found (Debian: apt-get install python3 python3-venv)" >&2; \
		exit 1; fi
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' || { \
		echo "make: $(PYTHON) is not Python 3.11; run e.g. make PYTHON=/usr/bin/python3.11" >&2; \
		exit 1; }
	@# Debian splits ensurepip (needed by venv) into python3-venv.
	@$(PYTHON) -c 'import ensurepip' 2>/dev/null || { $(call apt_install,python3-venv); }
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(PY)
	@$(UV) --version 2>/dev/null | grep -qxF "uv $(UV_VERSION)" \
		|| $(PY) -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	@# A registry hiccup must not fail a fresh machine's first run: retry with back-off.
	@for attempt in 1 2 3 4; do \
		$(UV) pip install --python $(PY) -r pyproject.toml --extra dev && exit 0; \
		echo "make: dependency install failed (attempt $$attempt of 4); retrying" >&2; \
		sleep $$((attempt * 5)); \
	done; exit 1
	@touch $@

venv: $(STAMP)

# Chromium (browser tests) with a CJK font (the UI is Chinese) and gettext (msgfmt).
sysdeps-test:
	@pkgs=""; \
	[ -x /usr/lib/chromium/chromium ] || pkgs="chromium fonts-wqy-zenhei"; \
	[ -e /usr/share/fonts/truetype/wqy/wqy-zenhei.ttc ] || pkgs="$$pkgs fonts-wqy-zenhei"; \
	command -v msgfmt >/dev/null 2>&1 || pkgs="$$pkgs gettext"; \
	if [ -n "$$pkgs" ]; then $(call apt_install,$$pkgs); fi

# npm packages the browser tests use (axe-core, pinned in package-lock.json), from
# the npm registry; never from a CDN. The stamp keeps it instant once installed
# (npm gives package files a fixed 1985 mtime, so they cannot be the target).
NODE_STAMP := node_modules/.installed

$(NODE_STAMP): package.json package-lock.json
	@command -v npm >/dev/null 2>&1 || { $(call apt_install,nodejs npm); }
	@for attempt in 1 2 3 4; do \
		npm ci --no-audit --no-fund && exit 0; \
		echo "make: npm ci failed (attempt $$attempt of 4); retrying" >&2; \
		sleep $$((attempt * 5)); \
	done; exit 1
	@touch $@

nodedeps-test: $(NODE_STAMP)

sysdeps-gettext:
	@command -v msgfmt >/dev/null 2>&1 || { $(call apt_install,gettext); }

# Compiled .mo files are build output (gitignored); skip quietly when there is
# nothing to compile yet.
compilemessages: venv
	@if [ -n "$$(find . -path ./.venv -prune -o -path ./var -prune -o -name '*.po' -print | head -n1)" ]; then \
		if command -v msgfmt >/dev/null 2>&1; then \
			$(VENV)/bin/django-admin compilemessages $(I18N_IGNORE); \
		else echo "make: WARNING: msgfmt missing (apt package gettext); .po files not compiled" >&2; fi; \
	fi

# --- the two commands -----------------------------------------------------------

# `exec`, so that signals from make (it forwards SIGTERM to its children) reach
# Python directly rather than an intermediate shell.
# In parallel (pytest-xdist, one worker per core; TEST_WORKERS=0 for one process, as
# --pdb needs): each worker has its own test database and cache keys, and the tests
# that start real processes, servers or a browser all run on one worker, in order
# (tests/conftest.py groups them). One pytest run: one exit status, one summary.
test: venv sysdeps-test nodedeps-test compilemessages
	exec $(PY) scripts/with_services.py $(VENV)/bin/pytest -n $(TEST_WORKERS) --dist loadgroup $(ARGS)

run: venv sysdeps-gettext
	exec $(PY) scripts/run.py $(ARGS)

# --- everything else --------------------------------------------------------------

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

fmt: venv
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

# Schema generation does not need the servers, but importing the URLconf may.
# A placeholder SECRET_KEY keeps production settings (DEBUG off) importable.
schema: venv
	SECRET_KEY="$${SECRET_KEY:-schema-generation-only}" exec $(PY) scripts/with_services.py \
		$(PY) manage.py spectacular --lang en --file openapi.yaml --validate --fail-on-warn $(ARGS)

bench: venv
	exec $(PY) scripts/with_services.py $(PY) -m bench $(ARGS)

bench-imports: venv
	exec $(PY) scripts/with_services.py $(PY) -m bench.imports $(ARGS)

faults: venv
	exec $(PY) scripts/with_services.py $(PY) -m bench.faults $(ARGS)

# DEBUG=1 only so the settings load without a SECRET_KEY; no server is needed.
messages: venv sysdeps-gettext
	DEBUG=1 $(PY) manage.py makemessages -l zh_Hans -l en --no-location $(I18N_IGNORE)
	$(VENV)/bin/django-admin compilemessages $(I18N_IGNORE)

clean:
	@if [ -x $(PY) ] && [ -d var ]; then $(PY) scripts/services.py stop; fi
	rm -rf var
