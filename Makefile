# The few commands a person types. Quick start: `make run`, `make test` (see README.md).
# Every target installs what it needs itself: the virtualenv, pinned Python packages, Debian packages.

SHELL := /bin/bash
.DEFAULT_GOAL := help

PY ?= python3
VENV = .venv
BIN = $(VENV)/bin
STAMP = $(VENV)/.stamp-install
HOST ?= 127.0.0.1
PORT ?= 8000
# Debian packages the tests use (Chinese font for PDFs and diagrams, pdftoppm, headless browser for e2e
# tests, Graphviz's dot for the state diagrams of the web pages).
SYSDEPS = fonts-wqy-zenhei poppler-utils chromium graphviz
# The Debian package documents are printed with (the embedded CJK font); `make run` makes sure of it.
FONTDEPS = fonts-wqy-zenhei
# Debian packages the benchmarks use (wrk: the HTTP load generator of bench/http.py).
BENCHDEPS = wrk
# Upper bound of the whole pytest run, in seconds (CI allows 90 minutes for everything).
TEST_TIMEOUT ?= 2700
PYTEST_ARGS ?=
# The suite runs in one worker per CPU (pytest-xdist); tests that share a module fixture stay on one worker
# (``xdist_group``). XDIST= (empty) runs it in this one process.
XDIST ?= -n auto --dist loadgroup

.PHONY: help venv install sysdeps fonts benchdeps run test lint typecheck bench lock clean

help:
	@echo "make run        create/migrate the database, load the demo city if empty, serve on http://$(HOST):$(PORT)"
	@echo "make test       the whole suite on SQLite and PostgreSQL (TEST_DATABASE_URL overrides the server)"
	@echo "make install    create $(VENV) and install pinned dependencies (constraints.txt)"
	@echo "make sysdeps    install the Debian packages the tests need (root or sudo only)"
	@echo "make lint       ruff check"
	@echo "make typecheck  mypy"
	@echo "make bench      run every bench/*.py, then one table of every target (installs wrk, like sysdeps)"
	@echo "make lock       rewrite constraints.txt from $(VENV) after a dependency change"
	@echo "make clean      remove $(VENV) and caches (keeps var/, the database)"

venv install: $(STAMP)

# Re-installs only when the project's dependencies or their pins change.
$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || { echo "creating $(VENV) with $(PY)"; $(PY) -m venv $(VENV); }
	$(BIN)/python -m pip install -q --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install -q --disable-pip-version-check -c constraints.txt -e '.[dev]'
	@touch $@

# Installs the Debian packages $(1) that are missing; never fails the build: without apt-get, root or
# passwordless sudo it warns that $(2).
define install_debs
	@missing=""; \
	if ! command -v dpkg >/dev/null 2>&1; then \
		echo "warning: not a Debian system; make sure these are installed: $(1)" >&2; exit 0; fi; \
	for p in $(1); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	[ -n "$$missing" ] || exit 0; \
	if [ "$$(id -u)" = 0 ]; then sudo=""; \
	elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo="sudo -n"; \
	else echo "warning: cannot install$$missing (need root or passwordless sudo); $(2)" >&2; exit 0; fi; \
	if ! command -v apt-get >/dev/null 2>&1; then \
		echo "warning: apt-get not found; cannot install$$missing" >&2; exit 0; fi; \
	echo "installing Debian packages:$$missing"; \
	apt="$$sudo env DEBIAN_FRONTEND=noninteractive apt-get -qq -o Dpkg::Use-Pty=0 -o DPkg::Lock::Timeout=300"; \
	{ $$apt update && $$apt install -y --no-install-recommends $$missing >/dev/null; } \
		|| echo "warning: apt-get could not install$$missing; $(2)" >&2
endef

sysdeps:
	$(call install_debs,$(SYSDEPS),tests using them will skip or fail)

fonts:
	$(call install_debs,$(FONTDEPS),documents (PDF) will fail naming the package until it is installed)

benchdeps:
	$(call install_debs,$(BENCHDEPS),bench/http.py falls back to its slower Python load generator)

run: install fonts
	$(BIN)/fundflow audit keygen --if-missing
	$(BIN)/fundflow demo --if-empty
	$(BIN)/fundflow demo --accounts
	exec $(BIN)/fundflow serve --host $(HOST) --port $(PORT)

test: install sysdeps
	@pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null \
		|| { command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ] \
		     && echo "starting PostgreSQL" && pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql | tail -n 1) main start; } \
		|| true
	@timeout -k 30 $(TEST_TIMEOUT) $(BIN)/pytest -q -p no:cacheprovider $(XDIST) $(PYTEST_ARGS); rc=$$?; \
	if [ $$rc = 124 ]; then echo "error: the test run exceeded $(TEST_TIMEOUT) s and was stopped" >&2; fi; \
	exit $$rc

lint: install
	$(BIN)/ruff check .

typecheck: install
	$(BIN)/mypy rules workflow store api cli.py

# Every benchmark (not the helper modules), then one table of all their targets (bench/summary.py reads the
# results each one records in var/bench/).
BENCH_HELPERS = bench/machine_info.py bench/summary.py bench/layers.py bench/http_profile.py

bench: install benchdeps
	@for f in $(filter-out $(BENCH_HELPERS),$(wildcard bench/*.py)); do \
		echo "== $$f"; $(BIN)/python "$$f" || exit 1; \
	done
	@echo "== summary"; $(BIN)/python bench/summary.py

lock: install
	@{ echo "# Pinned versions of every package fundflow installs (runtime + the 'dev' extra), for Python 3.11."; \
	   echo "# Used as: pip install -c constraints.txt -e '.[dev]'   (make install does this)."; \
	   echo "# Regenerate after changing dependencies in pyproject.toml: make lock"; \
	   $(BIN)/python -m pip freeze --exclude-editable | grep -viE '^(pip|setuptools|wheel|fundflow)([=@ ]|$$)'; \
	 } > constraints.txt.new && mv constraints.txt.new constraints.txt && touch $(STAMP)
	@echo "constraints.txt: $$(grep -vc '^#' constraints.txt) packages pinned"

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache .mypy_cache .hypothesis
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
