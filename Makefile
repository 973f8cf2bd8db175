# Two commands: `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
DEMO   := work/demo

.PHONY: demo test lint typecheck pytest system-deps bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

# the installed package, refreshed when pyproject.toml changes
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[test,graph]'
	touch $(VENV)/.installed $@

# The bundled demo runs in an ignored copy so the repository stays clean.
demo: $(VENV)/.installed
	rm -rf $(DEMO) && mkdir -p work && cp -r playbooks/demo $(DEMO)
	$(BIN)/reconciler validate $(DEMO)
	$(BIN)/reconciler plan $(DEMO)
	$(BIN)/reconciler apply $(DEMO) --auto-approve
	@echo "demo: the playbook and its files are in $(DEMO); try 'reconciler plan $(DEMO)' again: No changes."

# Debian's slapd and ldap-utils (integration tests), chromium (HTML report test) and valgrind
# (bench/instructions.py), where missing and possible.
system-deps:
	@if [ ! -x /usr/sbin/slapd ] || ! command -v chromium >/dev/null 2>&1 || ! command -v valgrind >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slapd ldap-utils chromium openssl valgrind >/dev/null; \
	  else echo "system-deps: not root or no apt-get; tests needing slapd/chromium/valgrind will skip"; fi; \
	fi

lint: $(VENV)/.installed-test
	$(BIN)/ruff check reconciler tests bench

typecheck: $(VENV)/.installed-test
	$(BIN)/mypy

pytest: $(VENV)/.installed-test system-deps
	$(BIN)/pytest -q -n 2

test: lint typecheck pytest

bench: $(VENV)/.installed-test
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) work .pytest_cache .mypy_cache .ruff_cache
