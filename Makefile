# Procurement Center — see CONTRACT.md "Commands".
#   make install   set-up only (idempotent, fast when done): .venv, pinned deps, system packages, translations, PDF fonts
#   make run       set-up, then embedded PostgreSQL (unless DATABASE_URL), migrate, demo data, web + worker + beat
#   make test      set-up, lint, then the whole test suite (DATABASE_URL when set, embedded PostgreSQL otherwise)
#   make bench     set-up, then the benchmarks (bench/results/*.json)
#   make fuzz      set-up, then the schemathesis run over /api/schema/ and the upload fuzz (generated files to
#                  the reconciliation upload, API and page) at FUZZ_EXAMPLES (500) examples each
#   make lint | format | messages | clean

SHELL := /bin/bash
.DEFAULT_GOAL := run

VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.requirements-installed
# The interpreter that creates .venv: python3.11 when there is one, else python3 (3.11+).
PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3 2>/dev/null)
# Settings start the embedded PostgreSQL when DATABASE_URL is unset; commands that never
# touch the database get a dummy URL so that they don't (nothing connects at import).
NO_DB  := DATABASE_URL=postgres://unused@127.0.0.1:9/unused PROCUREMENT_ENV=run
# Extra arguments for pytest, e.g. make test ARGS="-k close_month -x"
ARGS   ?=

.PHONY: install venv deps system-packages translations fonts run test lint format bench fuzz messages clean

install: deps system-packages translations fonts

venv: $(PY)

$(PY):
	@test -n "$(PYTHON)" || { echo "python3.11 or python3 (3.11+) is needed to create $(VENV)" >&2; exit 1; }
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "$(PYTHON) is older than Python 3.11" >&2; exit 1; }
	rm -rf $(VENV)
	$(PYTHON) -m venv $(VENV)

deps: $(STAMP)

$(STAMP): requirements.txt | $(PY)
	$(PY) -m pip install --disable-pip-version-check --no-input -q -r requirements.txt
	@touch $@

system-packages:
	@scripts/install_system_packages.sh

# Compile .po → .mo when a catalogue is newer than its .mo (or has none); nothing to do
# without any locale/ directory.
translations: deps system-packages
	@stale=$$(find . -path ./$(VENV) -prune -o -path ./var -prune -o -path '*/locale/*' -name '*.po' -print 2>/dev/null | \
		while read -r po; do [[ "$$po" -nt "$${po%.po}.mo" ]] && echo "$$po"; done); \
	if [[ -n "$$stale" ]]; then \
		echo "Compiling translations"; \
		$(NO_DB) $(PY) manage.py compilemessages --ignore=$(VENV) --ignore=var; \
	fi

# The Simplified Chinese Noto Sans CJK faces for PDFs, extracted from Debian's .ttc into
# var/fonts/ (see the script for why); nothing to do when they are there and up to date.
fonts: deps system-packages
	@$(PY) scripts/extract_cjk_fonts.py

# exec: the runner is make's own child, so that the SIGTERM make forwards reaches it (not a
# shell); it watches make for a SIGINT sent to make's PID (procurement/run.py).
run: install
	PROCUREMENT_ENV=run exec $(PY) -m procurement.run

test: install
	@$(MAKE) --no-print-directory lint
	PROCUREMENT_ENV=test $(PY) -m procurement.embedded_db run -- $(VENV)/bin/pytest $(ARGS)

lint: deps
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

format: deps
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

bench: install
	@mkdir -p bench/results
	@if [[ -f bench/__main__.py ]]; then \
		echo "PROCUREMENT_ENV=test $(PY) -m procurement.embedded_db run -- $(PY) -m bench"; \
		PROCUREMENT_ENV=test $(PY) -m procurement.embedded_db run -- $(PY) -m bench; \
	else \
		echo "No benchmarks exist yet (bench/__main__.py is missing)."; \
	fi

# The fuzz tests of `make test` (tests/fuzz: the API schema, 20 examples per operation and token;
# the uploads with generated files, 20 examples) at a much
# larger count; e.g. make fuzz FUZZ_EXAMPLES=2000
FUZZ_EXAMPLES ?= 500
fuzz: install
	PROCUREMENT_ENV=test FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(PY) -m procurement.embedded_db run -- $(VENV)/bin/pytest -s tests/fuzz $(ARGS)

messages: install
	@mkdir -p locale
	$(NO_DB) $(PY) manage.py makemessages -l zh_Hans -l en --ignore=$(VENV) --ignore=var

# var/ holds the embedded PostgreSQL's data, the filesystem broker's queue and media:
# stop the server before removing it.
clean:
	@if [[ -x $(PY) && -d var/pgdata ]]; then $(PY) -m procurement.embedded_db stop; fi
	rm -rf var
