# make run  — set up (if needed), load the demo into the embedded SQLite database under data/,
#             then run the service (the web service at http://127.0.0.1:8000/ — /healthz,
#             /api/v1/openapi.json — and the scheduler: sweeps, reminders, mail to data/mail/)
#             until Ctrl-C; `make run RUN_SECONDS=30` stops it after 30 seconds
# make test — set up with test extras (if needed) and run the whole suite
# make test-future — the suite again under a fixed future date in a year the calendar package
#             does not cover (libfaketime; installed with apt-get when missing)
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test

.PHONY: run test test-future faketime lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(TEST_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@ $(STAMP)

run: $(STAMP)
	$(BIN)/ssj init
	$(BIN)/ssj demo --if-empty
	$(BIN)/ssj walkthrough
	$(BIN)/ssj serve $(if $(RUN_SECONDS),--exit-after $(RUN_SECONDS))

test: $(TEST_STAMP)
	$(BIN)/ruff check states workflow notifications web tests bench
	$(BIN)/lint-imports
	$(BIN)/mypy
	$(BIN)/pytest -q

# The suite must pass whatever the machine's date is (DESIGN §3: a year nothing covers is
# provisional): run it as of FUTURE_DATE, the clock running on from there at real speed.
# (Monotonic time is shifted too: with FAKETIME_DONT_FAKE_MONOTONIC, libfaketime 0.9.10 makes
# Python's time.sleep fail with EINVAL.)
FUTURE_DATE ?= 2031-03-15 10:00:00

faketime:
	@command -v faketime >/dev/null 2>&1 || { \
		echo "installing libfaketime (apt-get)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq faketime libfaketime >/dev/null; }

test-future: $(TEST_STAMP) faketime
	faketime -f "@$(FUTURE_DATE)" $(BIN)/python -c \
		"import datetime; from workflow.deadlines.calendar import package_years as p; \
		t = datetime.date.today(); print('faketime: today is', t); \
		assert t.year == int('$(FUTURE_DATE)'[:4]) > p()[1], 'FUTURE_DATE: a year the package covers'"
	faketime -f "@$(FUTURE_DATE)" $(BIN)/pytest -q -p no:cacheprovider

bench: $(TEST_STAMP)
	$(BIN)/python bench/transitions.py
	$(BIN)/python bench/sweep.py
	$(BIN)/python bench/api.py   # PostgreSQL at 127.0.0.1:5432, user postgres

clean:
	rm -rf $(VENV) data .pytest_cache .hypothesis
