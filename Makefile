# Two commands do all set-up on a fresh machine: `make run` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
MANIFEST := dbt_project/target/manifest.json
DBT_SOURCES := $(shell find dbt_project/models dbt_project/macros dbt_project/seeds dbt_project/tests -type f 2>/dev/null) dbt_project/dbt_project.yml
SAMPLE_ORG ?= acme

.PHONY: run test dev validate clean

$(INSTALLED): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $(INSTALLED)

# dagster-dbt reads the dbt manifest when the code location loads; rebuild it when the dbt project changes.
$(MANIFEST): $(INSTALLED) $(DBT_SOURCES)
	cd dbt_project && ../$(BIN)/dbt parse --profiles-dir . --quiet
	touch $(MANIFEST)

run: $(MANIFEST)
	$(BIN)/session-analytics generate-sample --if-absent
	$(BIN)/session-analytics refresh
	$(BIN)/session-analytics analytics summary --org $(SAMPLE_ORG) --format table

# The peer tool ccusage (npm), for the token-parity test and `python -m orchestration.ccusage_parity`.
CCUSAGE := .tools/node_modules/.bin/ccusage
$(CCUSAGE):
	npm install --silent --no-audit --no-fund --prefix .tools ccusage@20.0.24

test: $(MANIFEST) $(CCUSAGE)
	$(BIN)/pytest

dev: $(MANIFEST)
	mkdir -p .dagster_home && cp orchestration/dagster.yaml .dagster_home/dagster.yaml
	DAGSTER_HOME=$(CURDIR)/.dagster_home $(BIN)/dagster dev -m orchestration.definitions

validate: $(MANIFEST)
	$(BIN)/dagster definitions validate -m orchestration.definitions

clean:
	rm -rf $(VENV) .tools dbt_project/target dbt_project/logs data/raw data/directory data/lake data/warehouse.duckdb data/.build data/outbox
