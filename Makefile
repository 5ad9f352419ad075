# Set-up and everyday commands. `make demo` and `make test` work on a fresh machine with nothing
# but Python 3.11+, make and the package registries.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
PIP_VERSION := 26.3
HOST ?= 127.0.0.1
PORT ?= 8000

define DEMO_CURL
curl -s http://$(HOST):$(PORT)/v1/score -H 'Content-Type: application/json' -d '{"leads": [{"lead_id": "NEW-1", "industry": "Software", "company_size": "201-1000", "job_title_level": "VP", "lead_source": "Referral", "country": "US", "purchase_timeline": "0-3 months", "budget_status": "Approved", "web_visits": 9, "email_opens": 12, "demo_requested": "yes"}]}'
endef
export DEMO_CURL

.PHONY: install demo serve test lint format clean bench-scale

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip==$(PIP_VERSION)

$(INSTALLED): $(BIN)/python pyproject.toml constraints.txt
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev,spark]'
	touch $(INSTALLED)

install: $(INSTALLED)

demo: install
	$(BIN)/leadscore demo-data data/demo.csv --rows 5000 --seed 7
	$(BIN)/leadscore train data/demo.csv --config data/demo.toml --report-json reports/demo.json
	@printf '\nThe API starts now. Score a lead from another terminal:\n\n%s\n\n' "$$DEMO_CURL"
	$(BIN)/leadscore serve --host $(HOST) --port $(PORT)

serve: install
	$(BIN)/leadscore serve --host $(HOST) --port $(PORT)

test: install
	$(BIN)/pytest

bench-scale: install
	$(BIN)/python benchmarks/scale.py

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) data reports mlflow.db mlartifacts .pytest_cache
