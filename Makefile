# The README's two commands are `make repro` and `make test`; the rest are helpers.
PYTHON ?= python3
# Where the dataset mirror lives (a folder laid out like ../shared/datasets).
SAGATSR_DATA_MIRROR ?= $(abspath $(CURDIR)/../shared/datasets)
export SAGATSR_DATA_MIRROR
PROFILE ?= quick

.PHONY: install repro test lint snapshot profile browser

## install: the package (editable) with its pinned dependencies; re-run when pyproject changes
install: .make/installed
.make/installed: pyproject.toml
	$(PYTHON) -m pip install --quiet torch==2.13.0
	$(PYTHON) -m pip install --quiet -e '.[dev]'
	@mkdir -p .make && touch $@

## snapshot: copy the configured mirror into data/ and record it in data.dvc
snapshot: install
	$(PYTHON) -m sagatsr snapshot --mirror "$(SAGATSR_DATA_MIRROR)" --out data
	$(PYTHON) -m dvc add --quiet data

## repro: the whole pipeline on the active params.yaml profile
repro: snapshot
	$(PYTHON) -m dvc repro

## browser: headless Chromium for the report tests (Debian packages; needs root)
browser:
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null || \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null; } || \
	  echo "warning: could not install chromium; the browser test will be skipped (fails under CI=true)"

## test: the test suite
test: install browser
	$(PYTHON) -m pytest

## lint: ruff on library and tests
lint: install
	$(PYTHON) -m ruff check lib tests
	$(PYTHON) -m ruff format --check lib tests

## profile: make PROFILE=paper|quick the active parameters (rewrites params.yaml)
profile: install
	$(PYTHON) -m sagatsr profile $(PROFILE)
