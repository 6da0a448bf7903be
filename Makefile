# make run  — set up (if needed), load the demo into the embedded SQLite database under data/,
#             then run the service (scheduler: sweeps, reminders, mail to data/mail/) until
#             Ctrl-C; `make run RUN_SECONDS=30` stops it after 30 seconds
# make test — set up with test extras (if needed) and run the whole suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test

.PHONY: run test lint bench clean

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
	$(BIN)/ruff check states workflow notifications tests bench
	$(BIN)/pytest -q

bench: $(TEST_STAMP)
	$(BIN)/python bench/transitions.py
	$(BIN)/python bench/sweep.py

clean:
	rm -rf $(VENV) data .pytest_cache .hypothesis
