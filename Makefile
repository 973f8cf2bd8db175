# Two commands: `make demo` and `make test`.
# The distribution's Python 3 when it has what a virtual environment and the compiled modules need (built
# with its optimizations and a static libpython, it runs the engine 5-7 % faster than a default pyenv build);
# otherwise python3 from PATH. `make PYTHON=python3.12 ...` chooses.
PYTHON ?= $(or $(shell for p in /usr/bin/python3 python3; do $$p -c 'import os, sys, sysconfig, venv, ensurepip; \
  sys.exit(sys.version_info < (3, 11) or not os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h")))' \
  2>/dev/null && { echo $$p; break; }; done),python3)
VENV   ?= .venv
BIN    := $(VENV)/bin
DEMO   := work/demo

.PHONY: demo test lint typecheck pytest system-deps accel bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

# the installed package, refreshed when pyproject.toml changes
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[accel]'
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[accel,test,graph]'
	touch $(VENV)/.installed $@

# The bundled demo runs in an ignored copy so the repository stays clean.
demo: $(VENV)/.installed
	rm -rf $(DEMO) && mkdir -p work && cp -r playbooks/demo $(DEMO)
	$(BIN)/reconciler validate $(DEMO)
	$(BIN)/reconciler plan $(DEMO)
	$(BIN)/reconciler apply $(DEMO) --auto-approve
	@echo "demo: the playbook and its files are in $(DEMO); try 'reconciler plan $(DEMO)' again: No changes."

# Debian's slapd and ldap-utils (integration tests), chromium (HTML report test), valgrind
# (bench/instructions.py) and a C compiler (the compiled hot modules), where missing and possible.
system-deps:
	@if [ ! -x /usr/sbin/slapd ] || ! command -v chromium >/dev/null 2>&1 || ! command -v valgrind >/dev/null 2>&1 \
	    || ! command -v cc >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slapd ldap-utils chromium openssl valgrind \
	      gcc libc6-dev >/dev/null; \
	  else echo "system-deps: not root or no apt-get; tests needing slapd/chromium/valgrind will skip"; fi; \
	fi

lint: $(VENV)/.installed-test
	$(BIN)/ruff check reconciler tests bench

typecheck: $(VENV)/.installed-test
	$(BIN)/mypy

# Cython-compiled copies of the hot modules (reconciler/accel), rebuilt when a source changed (a minute;
# needs a C compiler and Python's headers). The demo runs without them, as pure Python; the tests and the
# benchmark run what a large deployment runs.
accel: $(VENV)/.installed
	$(BIN)/python -m reconciler.accel --if-stale

# the whole suite on the compiled modules (as pure Python where they cannot be compiled: no compiler and no
# way to install one), then the engine's semantics again as pure Python, what runs where there is no
# compiler: the golden scenarios and the engine, store and expression tests
pytest: $(VENV)/.installed-test system-deps
	@if $(BIN)/python -m reconciler.accel --if-stale; then expect=--expect-compiled; \
	else expect=; echo "pytest: the hot modules could not be compiled; the whole suite runs as pure Python"; fi; \
	echo "$(BIN)/pytest -q -n 2 $$expect"; $(BIN)/pytest -q -n 2 $$expect
	RECONCILER_PURE_PYTHON=1 $(BIN)/pytest -q -n 2 tests/test_scenarios.py tests/engine tests/store tests/expressions

test: lint typecheck pytest

bench: $(VENV)/.installed-test accel
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) work .pytest_cache .mypy_cache .ruff_cache reconciler/_compiled
