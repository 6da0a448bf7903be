# make run  — set up (if needed), load the demo into the embedded SQLite database under data/,
#             then run the service (the web service at http://127.0.0.1:8000/ — /healthz,
#             /api/v1/openapi.json — and the scheduler: sweeps, reminders, mail to data/mail/)
#             until Ctrl-C; `make run RUN_SECONDS=30` stops it after 30 seconds
# make test — set up with test extras (if needed) and run the whole suite, the browser tests
#             included (Debian's chromium, installed with apt-get when missing)
# make test-future — the suite again under a fixed future date in a year the calendar package
#             does not cover (libfaketime; installed with apt-get when missing)
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test

.PHONY: run test test-future faketime chromium lint bench clean

# htmx for the pages, vendored at build time from the npm registry (no CDN: bureaus' networks
# are closed): the pinned version, checked against the registry's integrity hash, unpacked into
# web/static/vendor/ (git-ignored; packaged with the wheel).
HTMX_VERSION := 2.0.8
HTMX_INTEGRITY := sha512-fm297iru0iWsNJlBrjvtN7V9zjaxd+69Oqjh4F/Vq9Wwi2kFisLcrLCiv5oBX0KLfOX/zG8AUo9ROMU5XUB44Q==
HTMX := web/static/vendor/htmx.min.js

$(HTMX):
	@command -v npm >/dev/null 2>&1 || { \
		echo "installing npm (apt-get) to vendor htmx"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm >/dev/null; }
	rm -rf build/htmx && mkdir -p build/htmx $(dir $@)
	cd build/htmx && npm pack --silent htmx.org@$(HTMX_VERSION) >/dev/null
	$(PYTHON) -c "import base64, hashlib, sys, tarfile; \
		path = 'build/htmx/htmx.org-$(HTMX_VERSION).tgz'; data = open(path, 'rb').read(); \
		got = 'sha512-' + base64.b64encode(hashlib.sha512(data).digest()).decode(); \
		sys.exit('htmx: integrity ' + got + ' is not the pinned one') if got != '$(HTMX_INTEGRITY)' else None; \
		open('$@.tmp', 'wb').write(tarfile.open(path).extractfile('package/dist/htmx.min.js').read())"
	mv $@.tmp $@

# The browser tests drive Debian's chromium (Playwright's own browser downloads are not used);
# a CJK font makes their screenshots readable.
chromium:
	@test -x /usr/bin/chromium -a -d /usr/share/fonts/truetype/wqy || { \
		echo "installing chromium and a CJK font (apt-get) for the browser tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			chromium fonts-wqy-zenhei >/dev/null; }

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(TEST_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@ $(STAMP)

run: $(STAMP) $(HTMX)
	$(BIN)/ssj init
	$(BIN)/ssj demo --if-empty --walkthrough
	$(BIN)/ssj serve $(if $(RUN_SECONDS),--exit-after $(RUN_SECONDS))

test: $(TEST_STAMP) $(HTMX) chromium
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

test-future: $(TEST_STAMP) $(HTMX) chromium faketime
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
