# The two commands: `make run` and `make test`. Everything else is a detail of those.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip install --quiet --disable-pip-version-check
PACKAGES := -e services/common -e services/registration -e services/notifications -e services/certificates
PYPROJECTS := $(wildcard services/*/pyproject.toml)

.PHONY: run test lint system-packages clean bench fuzz translations

$(VENV)/.runtime: requirements.txt $(PYPROJECTS)
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) -r requirements.txt $(PACKAGES)
	touch $@

$(VENV)/.test: $(VENV)/.runtime requirements-test.txt
	$(PIP) -r requirements-test.txt
	touch $@

## make run: the whole suite on local defaults (SQLite, SMTP sink, Stripe stand-in, demo data)
run: $(VENV)/.runtime
	$(PY) -m devtools.stack

## make test: install what the tests need, then run all of them, on TEST_WORKERS processes (pytest-xdist).
## Much of the time is spent waiting for the end-to-end stacks, so two workers help even on 2 cores; each test
## file stays on one worker (--dist loadfile), so a module's stack starts once.
TEST_WORKERS ?= 2
test: $(VENV)/.test system-packages lint
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadfile

lint: $(VENV)/.test
	$(PY) -m ruff check services devtools tests

## make bench: the benchmarks of issue 7 against the PostgreSQL of DATABASE_URL_TEST (bench/RESULTS.md)
bench: $(VENV)/.runtime
	$(PIP) -r bench/requirements.txt
	$(PY) bench/run_all.py $(if $(QUICK),--quick)

## make fuzz: a long fuzz of the three services' APIs, FUZZ_SECONDS (default 300) per service and token, a fresh
## seed unless FUZZ_SEED is given (the seed is printed; FUZZ_SEED=<seed> repeats a run's generation)
fuzz: $(VENV)/.test
	FUZZ_SECONDS=$(or $(FUZZ_SECONDS),300) $(PY) -m pytest tests/fuzz -p no:cacheprovider

## make translations: extract the attendee-facing messages and update the nl, de, fr catalogs of every package
## (new messages arrive untranslated; tests/common/test_catalogs.py fails until they are translated)
translations: $(VENV)/.runtime
	$(PY) -m devtools.translations update

system-packages:
	@bash devtools/system-packages.sh

clean:
	rm -rf $(VENV) var
