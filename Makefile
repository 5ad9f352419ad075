# Set-up and everyday commands. `make demo` and `make test` work on a fresh machine with nothing
# but Python 3.11+, make and the package registries.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
NOTEBOOK_INSTALLED := $(VENV)/.installed-notebook
PIP_VERSION := 26.3
HOST ?= 127.0.0.1
PORT ?= 8000

define DEMO_CURL
curl -s http://$(HOST):$(PORT)/v1/score -H 'Content-Type: application/json' -d '{"leads": [{"lead_id": "NEW-1", "industry": "Software", "company_size": "201-1000", "job_title_level": "VP", "lead_source": "Referral", "country": "US", "purchase_timeline": "0-3 months", "budget_status": "Approved", "web_visits": 9, "email_opens": 12, "demo_requested": "yes"}]}'
endef
export DEMO_CURL

.PHONY: install check-port demo serve test lint format clean bench-quality bench-serve bench-scale bench-live bench-board openapi \
	notebook notebook-strip notebook-filter notebook-report notebook-xeducation

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip==$(PIP_VERSION)

$(INSTALLED): $(BIN)/python pyproject.toml constraints.txt
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev,spark]'
	touch $(INSTALLED)

install: $(INSTALLED)

# JupyterLab, and a kernel named `leadscore` that runs this .venv's Python.
$(NOTEBOOK_INSTALLED): $(INSTALLED)
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev,notebook]'
	$(BIN)/python -m ipykernel install --sys-prefix --name leadscore --display-name "leadscore (.venv)"
	touch $(NOTEBOOK_INSTALLED)

# Stops at once, before installing or training, when something already listens on $(PORT).
check-port:
	@$(PYTHON) -c "import socket, sys; s = socket.socket(); sys.exit('port $(PORT) is in use: choose another, e.g. make demo PORT=8080') if s.connect_ex(('$(HOST)', $(PORT))) == 0 else None"

demo: check-port install
	$(BIN)/leadscore demo-data data/demo.csv --rows 5000 --seed 7
	$(BIN)/leadscore train data/demo.csv --config data/demo.toml --report-json reports/demo.json
	$(BIN)/leadscore demo-traffic --weeks 6
	@printf '\nThe API starts now. The board: http://$(HOST):$(PORT)/board\n'
	@printf 'Score a lead from another terminal:\n\n%s\n\n' "$$DEMO_CURL"
	$(BIN)/leadscore serve --host $(HOST) --port $(PORT)

serve: install
	$(BIN)/leadscore serve --host $(HOST) --port $(PORT)

# The wheels of the packages a logged model requires (serve/model/pyfunc.py, RUNTIME_PACKAGES)
# at the pinned versions: the test that loads a model in a fresh virtual environment installs
# them from here, so the tests themselves download nothing.
WHEELHOUSE := $(VENV)/wheelhouse
$(WHEELHOUSE): $(INSTALLED) constraints.txt
	rm -rf $(WHEELHOUSE).partial
	$(BIN)/pip download --quiet -d $(WHEELHOUSE).partial -c constraints.txt $$($(BIN)/python -c \
		'from serve.model.pyfunc import RUNTIME_PACKAGES; print(*RUNTIME_PACKAGES)')
	rm -rf $(WHEELHOUSE) && mv $(WHEELHOUSE).partial $(WHEELHOUSE)

test: install $(WHEELHOUSE)
	$(BIN)/pytest

BENCH_INSTALLED := $(VENV)/.bench-installed

$(BENCH_INSTALLED): $(INSTALLED)
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev,bench]'
	touch $(BENCH_INSTALLED)

# Quality of the default pipeline against the baseline and FLAML on the real data sets in
# ../shared/data (several minutes: FLAML gets 60 s per fit).
bench-quality: $(BENCH_INSTALLED)
	$(BIN)/python benchmarks/quality.py

# The API beside `mlflow models serve` under wrk on loopback (wrk from Debian's packages).
bench-serve: install
	$(BIN)/python benchmarks/serving.py

bench-scale: install
	$(BIN)/python benchmarks/scale.py

# Live performance and stalled leads on a store of a million scored leads (SQLite, and
# PostgreSQL when LEADSCORE_TEST_POSTGRES_URL names a database it may empty).
bench-live: install
	$(BIN)/python benchmarks/live_store.py

# The board's first, other-filter and cached views on the same size of store.
bench-board: install
	$(BIN)/python benchmarks/board_store.py

# docs/openapi.json from the app itself (a test fails while it differs from what the app serves).
openapi: install
	$(BIN)/python -m tests.docs.openapi_document --write

# ruff on everything; mypy on the packages and the CLI (pyproject's [tool.mypy] names them).
lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# The notebooks: stored without outputs, each paired with a jupytext twin (.py, percent format).
notebook: $(NOTEBOOK_INSTALLED)
	$(BIN)/jupyter lab --notebook-dir notebooks $(if $(filter 0,$(shell id -u)),--allow-root)

notebook-strip: install
	$(BIN)/nbstripout notebooks/*.ipynb
	$(BIN)/jupytext --sync notebooks/*.ipynb

# Strips outputs whenever a notebook is staged (a git filter in this clone's .git/config).
notebook-filter: install
	$(BIN)/nbstripout --install --attributes .gitattributes

# Runs the notebook top to bottom and exports it to reports/loss_drivers_$(NAME).html.
# PARAMS: a YAML file of notebook parameters (paths in it are relative to notebooks/).
NAME ?= demo
PARAMS ?=
notebook-report: $(NOTEBOOK_INSTALLED)
	mkdir -p reports
	$(BIN)/papermill notebooks/loss_drivers.ipynb reports/loss_drivers_$(NAME).ipynb \
		--cwd notebooks --no-progress-bar $(if $(PARAMS),-f $(PARAMS))
	$(BIN)/jupyter nbconvert --to html reports/loss_drivers_$(NAME).ipynb

# X Education (../shared/data/xeducation): trains a leak-free model into reports/xeducation/,
# then runs the notebook on it.
notebook-xeducation: $(NOTEBOOK_INSTALLED)
	rm -rf reports/xeducation && mkdir -p reports/xeducation
	MLFLOW_TRACKING_URI=sqlite:///reports/xeducation/mlflow.db $(BIN)/leadscore train \
		../shared/data/xeducation/leads.csv --config notebooks/xeducation/contract.toml \
		--model-name xeducation --report-json reports/xeducation/training.json
	$(MAKE) notebook-report NAME=xeducation PARAMS=notebooks/xeducation/params.yaml

clean:
	rm -rf $(VENV) data reports mlflow.db mlartifacts .pytest_cache leadscore.db* leadscore-model-cache
