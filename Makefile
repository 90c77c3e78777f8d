# OTC Liquidity Router: `make run` serves the app, `make test` runs every test. Both set everything up first.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 5000
WORKERS ?= 2
export FLASK_APP := main

.PHONY: run test lint bench setup db demo clean browser

$(VENV)/.installed: requirements.txt requirements-dev.txt
	@echo "==> creating virtualenv and installing pinned dependencies"
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@touch $@

setup: $(VENV)/.installed

db: setup
	@echo "==> migrating the database and seeding the default OTC pools"
	@$(VENV)/bin/flask --app main init-db

# the job consumer (parent orders, markouts, recovery, ladder refresh) runs beside gunicorn; Ctrl-C stops both
run: db
	@echo "==> serving on http://127.0.0.1:$(PORT) with $(WORKERS) gunicorn workers and a job consumer (Ctrl-C stops both)"
	@$(VENV)/bin/flask --app main jobs consumer & consumer=$$!; trap 'kill $$consumer 2>/dev/null; wait $$consumer' EXIT; \
	$(VENV)/bin/gunicorn --workers $(WORKERS) --bind 127.0.0.1:$(PORT) --access-logfile - main:app

demo: db
	@$(VENV)/bin/flask --app main simulate --trades $${TRADES:-300}

browser:
	@bash scripts/install-browser.sh

lint: setup
	@echo "==> ruff"
	@$(VENV)/bin/ruff check .

test: setup browser lint
	@echo "==> pytest"
	@$(VENV)/bin/pytest -q $(PYTEST_ARGS)

bench: setup
	@bash scripts/bench-prereqs.sh
	@time $(PY) -m bench $(BENCH_ARGS)

clean:
	rm -rf $(VENV) instance test-artifacts .pytest_cache
