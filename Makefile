# The two commands of the README:
#   make run    install everything, start the local Airflow 3.3, index the docs, open the chat
#   make test   install everything, start Airflow if needed, run the whole suite, stop what it started
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
PYTEST_ARGS ?=

.PHONY: run test install airflow-install airflow-up airflow-down airflow-status lint bench

install:
	@scripts/bootstrap.sh
	@scripts/airflow.sh install

airflow-install:
	@scripts/airflow.sh install

airflow-up: install
	@scripts/airflow.sh up

airflow-down:
	@scripts/airflow.sh down

airflow-status:
	@scripts/airflow.sh status

run: airflow-up
	@eval "$$(scripts/airflow.sh env)" && $(VENV)/bin/assistant setup && exec $(VENV)/bin/assistant chat

test: install
	@started=0; \
	if ! scripts/airflow.sh status >/dev/null 2>&1; then scripts/airflow.sh up && started=1; fi; \
	$(PY) -m pytest $(PYTEST_ARGS); rc=$$?; \
	if [ $$started = 1 ]; then scripts/airflow.sh down; fi; \
	exit $$rc

lint:
	@$(VENV)/bin/ruff check assistant tests bench
	@$(VENV)/bin/ruff format --check assistant tests bench

bench:
	@for b in bench/*; do [ -f "$$b" ] && [ -x "$$b" ] && echo "== $$b" && $(PY) "$$b"; done
