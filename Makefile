# Two commands do all set-up on a fresh machine: `make run` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
MANIFEST := dbt_project/target/manifest.json
DBT_SOURCES := $(shell find dbt_project/models dbt_project/macros dbt_project/seeds dbt_project/tests -type f 2>/dev/null) dbt_project/dbt_project.yml
SAMPLE_ORG ?= acme
# Transcripts and telemetry of emails the directory lacks are kept as unknown users of this org.
SESSION_ANALYTICS_DEFAULT_ORG ?= $(SAMPLE_ORG)

.PHONY: run test test-spark lint bench dev validate clean assets

$(INSTALLED): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	# uv (from PyPI) installs the packages in parallel: about 30 s on two cores where pip took 85 s.
	$(BIN)/pip install --quiet --disable-pip-version-check 'uv>=0.13,<0.14'
	$(BIN)/uv pip install --quiet --python $(BIN)/python -e '.[test,spark]'
	touch $(INSTALLED)

# dagster-dbt reads the dbt manifest when the code location loads; rebuild it when the dbt project changes.
$(MANIFEST): $(INSTALLED) $(DBT_SOURCES)
	cd dbt_project && ../$(BIN)/dbt parse --profiles-dir . --quiet
	touch $(MANIFEST)

# Reports name people in any script; the machine image has DejaVu only, which has no CJK glyphs: WeasyPrint
# (through fontconfig) and matplotlib fall back to WenQuanYi for them. WeasyPrint subsets fonts with
# HarfBuzz-Subset (fast; without it, slow fontTools). Both from Debian, installed once.
REPORT_SYSTEM_PACKAGES := fonts-wqy-microhei libharfbuzz-subset0
CJK_FONT := /usr/share/fonts/truetype/wqy/wqy-microhei.ttc
$(CJK_FONT):
	@dpkg -s $(REPORT_SYSTEM_PACKAGES) >/dev/null 2>&1 || { apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $(REPORT_SYSTEM_PACKAGES); }

# The dashboard's browser libraries (htmx, ECharts), pinned by reports/web/package-lock.json and served by the app
# itself from reports/web/static/vendor: no CDN at run time. Without them the dashboard says so; the API is unaffected.
DASHBOARD_ASSETS := reports/web/static/vendor/.installed
$(DASHBOARD_ASSETS): reports/web/package.json reports/web/package-lock.json
	npm ci --silent --no-audit --no-fund --ignore-scripts --prefix reports/web
	mkdir -p reports/web/static/vendor
	cp reports/web/node_modules/htmx.org/dist/htmx.min.js reports/web/node_modules/echarts/dist/echarts.min.js \
		reports/web/static/vendor/
	touch $@
assets: $(DASHBOARD_ASSETS)

# The dashboard's browser tests drive Debian's headless Chromium (Playwright's own browser download is not possible).
BROWSER_PACKAGES := chromium chromium-driver
CHROMIUM := /usr/bin/chromium
$(CHROMIUM):
	@dpkg -s $(BROWSER_PACKAGES) >/dev/null 2>&1 || { apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $(BROWSER_PACKAGES); }

run: $(MANIFEST) $(CJK_FONT) $(DASHBOARD_ASSETS)
	$(BIN)/session-analytics generate-sample --if-absent
	SESSION_ANALYTICS_DEFAULT_ORG=$(SESSION_ANALYTICS_DEFAULT_ORG) $(BIN)/session-analytics refresh
	$(BIN)/session-analytics analytics summary --org $(SAMPLE_ORG) --format table
	$(BIN)/session-analytics report --org $(SAMPLE_ORG)

# The peer tool ccusage (npm), for the token-parity test and `python -m orchestration.bench.ccusage_parity`.
CCUSAGE := .tools/node_modules/.bin/ccusage
$(CCUSAGE):
	npm install --silent --no-audit --no-fund --prefix .tools ccusage@20.0.24

# Two workers (the machines have two cores), each test file on one worker, so a file's shared warehouse is built
# once: most of the suite's time is dbt builds, each mostly one core. Files go out in collection order, longest
# first (tests/conftest.py), not xdist's default of most tests first.
PYTEST_ARGS ?= -n 2 --dist loadfile --no-loadscope-reorder --durations=20
test: lint $(MANIFEST) $(CCUSAGE) $(CJK_FONT) $(DASHBOARD_ASSETS) $(CHROMIUM)
	$(BIN)/pytest $(PYTEST_ARGS)

# tests/integration/test_spark.py is part of `make test` (three builds in one JVM); this adds its opt-in test of
# `refresh --engine spark` end to end (a JVM of its own, a few more minutes). Java 17 from the machine image.
test-spark: $(MANIFEST)
	PATH=$(CURDIR)/$(BIN):$$PATH SESSION_ANALYTICS_SPARK_TESTS=1 $(BIN)/pytest tests/integration/test_spark.py -v

# Python: ruff (lint and format, pyproject.toml); dbt SQL: sqlfluff (dbt_project/.sqlfluff).
lint: $(INSTALLED)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	cd dbt_project && ../$(BIN)/sqlfluff lint models tests macros --processes 1

# The performance figures (see BENCHMARKS.md); BENCH_ARGS=--large for 10M model requests.
bench: $(MANIFEST) $(CCUSAGE) $(DASHBOARD_ASSETS)
	$(BIN)/session-analytics bench $(BENCH_ARGS)

# The Dagster UI on http://127.0.0.1:$(DAGSTER_PORT). The venv's bin on PATH: the code location runs dbt from there.
DAGSTER_HOME_DIR ?= $(CURDIR)/.dagster_home
DAGSTER_PORT ?= 3000
dev: $(MANIFEST) $(DASHBOARD_ASSETS)
	mkdir -p $(DAGSTER_HOME_DIR) && cp orchestration/dagster.yaml $(DAGSTER_HOME_DIR)/dagster.yaml
	PATH=$(CURDIR)/$(BIN):$$PATH DAGSTER_HOME=$(DAGSTER_HOME_DIR) $(BIN)/dagster dev -m orchestration.definitions \
		-h 127.0.0.1 -p $(DAGSTER_PORT)

validate: $(MANIFEST)
	$(BIN)/dagster definitions validate -m orchestration.definitions

clean:
	rm -rf $(VENV) .tools dbt_project/target dbt_project/logs data/raw data/directory data/lake data/warehouse.duckdb \
		data/.build data/outbox data/reports reports/web/node_modules reports/web/static/vendor
