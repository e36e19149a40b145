# Everything a developer needs, from a fresh clone with only Python 3.11+ present.
# `make` alone lists the targets: each one's `##` comment above it is its line in that list.
# Two install levels in one venv: `make run`/`make ask` install only the
# runtime set (requirements-run.txt, small and quick); `make test` and the
# other targets add the dev set (requirements-dev.txt) on top. --no-compile:
# Python compiles only the modules it imports, on first use, which is quicker.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 5000
PIP    := $(BIN)/python -m pip install -q --disable-pip-version-check --no-compile
RUN_STAMP := $(VENV)/.installed-run
STAMP     := $(VENV)/.installed-dev
# pytest-xdist: one worker per core; each test file runs on one worker (--dist loadfile), so a file's
# session fixtures (a browser, the interop drive, the unzipped Lambda package) start once per run.
# (--dist loadgroup would be finer, but with pytest 9 it ignores xdist_group marks: measured.)
XDIST  := -n auto --dist loadfile

.DEFAULT_GOAL := help
.PHONY: help run ask test test-slow test-clock test-all install-run install models serve bench bench-record bench-load \
        bench-slow skill-package package screenshots clean

## This list (what `make` alone prints).
help:
	@echo 'Usage: make TARGET [VAR=value]. Start with `make run`, then `make test`; README.md says what each costs.'
	@echo
	@awk '/^## / { doc = doc (doc ? " " : "") substr($$0, 4); next } \
	      /^[a-z][a-z-]*:/ && doc { sub(/:.*/, ""); printf "  %-14s %s\n", $$0, doc } \
	      { doc = "" }' $(firstword $(MAKEFILE_LIST))

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit("Python 3.11+ is required") if sys.version_info < (3, 11) else None'
	@echo "Creating $(VENV) (first run only)"
	@$(PYTHON) -m venv $(VENV)

$(RUN_STAMP): requirements.txt requirements-run.txt | $(BIN)/python
	@echo "Installing the runtime set (requirements-run.txt) into $(VENV)"
	@$(PIP) -r requirements-run.txt
	@touch $@

$(STAMP): $(RUN_STAMP) requirements-dev.txt
	@echo "Adding the dev set (requirements-dev.txt) to $(VENV)"
	@$(PIP) -r requirements-dev.txt
	@touch $@

## Development server and browser page on http://127.0.0.1:5000/ (PORT=5001 for another); not for the internet.
run: install-run
	@$(BIN)/python -m simulator.devserver --host 127.0.0.1 --port $(PORT)

## One question through the local simulator, no server needed: make ask Q="what is psa"
ask: install-run
	@$(BIN)/python -m simulator --one-shot "$(Q)"

## Lint (ruff), then the test suite (all but the slow tests) in parallel on every core, in a random order (the seed is
## printed last); README.md, "Two commands", says what it costs. Extra pytest options: PYTEST_ARGS=...
test: install
	$(BIN)/ruff check . && $(BIN)/python -m pytest -q $(XDIST) -m "not slow" $(PYTEST_ARGS)

## The slow tests `make test` leaves out (deliberate waits, whole benchmark runs); CI runs them too.
test-slow: install
	$(BIN)/python -m pytest -q $(XDIST) -m slow $(PYTEST_ARGS)

## The whole suite again with the clock a year ahead and a month back (libfaketime moves the clock of
## every process the tests start): a test that only passes on the day it was written fails here.
test-clock: install
	@command -v faketime >/dev/null || { echo "test-clock needs faketime: apt-get install faketime"; exit 2; }
	faketime -f '+400d' $(BIN)/python -m pytest -q $(XDIST) -m "not slow" -p no:cacheprovider $(PYTEST_ARGS)
	faketime -f '-30d' $(BIN)/python -m pytest -q $(XDIST) -m "not slow" -p no:cacheprovider $(PYTEST_ARGS)

## What CI runs: make test, make test-slow, then make test-clock.
test-all: test test-slow test-clock

## Runtime set only: what `make run` and `make ask` need.
install-run: $(RUN_STAMP)

## Runtime plus dev set: tests, benchmarks, packaging.
install: $(STAMP)

## Regenerate interaction_model/*.json from skill/content.json.
models: install
	$(BIN)/python -m deploy.models --write

## Production webhook under gunicorn: verifies every request; needs SKILL_ID=amzn1.ask.skill.<id>.
serve: install
	PORT=$(PORT) $(BIN)/gunicorn -c webhook/gunicorn.conf.py 'webhook.app:production_app()'

## All benchmarks beside their baselines, a few minutes (BENCH_QUICK=1: a smoke run); a missed target
## says why. Tables in build/bench/results.md; cold start needs a Python 3.12, as `make package` does.
bench: install
	$(BIN)/python -m bench.run

## The same run, and its tables replace the generated section of the committed BENCHMARKS.md.
bench-record: install
	$(BIN)/python -m bench.run --write

## Load test of the production webhook (gunicorn + verification) with wrk; needs `apt-get install wrk`.
bench-load: install
	$(BIN)/python -m bench.load

## Slow-client attack (8 one-byte, 16 trickled-head, 8 trickled-body connections) on the production
## webhook for 25 s, loopback.
bench-slow: install
	$(BIN)/python -m bench.slowloris

## Skill package for `ask deploy` in build/; set the endpoint with LAMBDA_ARN=arn:... or HTTPS_URL=https://host/alexa.
skill-package: install
	$(BIN)/python -m deploy.package_skill $(if $(LAMBDA_ARN),--lambda-arn '$(LAMBDA_ARN)') $(if $(HTTPS_URL),--https-url '$(HTTPS_URL)')

## dist/lambda.zip for AWS Lambda (python3.12, x86_64), reproducible, for `sam deploy`; bytecode by a
## local Python 3.12: LAMBDA_PYTHON=/path/to/python3.12, else python3.12 on PATH or pyenv's.
package: install
	$(BIN)/python -m deploy.package_lambda

## Screenshots of the page for the README (docs/screenshots/*.png), taken in Debian's chromium.
screenshots: install
	$(BIN)/python -m simulator.web.screenshots docs/screenshots

## Everything the build and the tests make: venv, build/, dist/, caches, npm packages of the interop test.
clean:
	rm -rf $(VENV) build dist .pytest_cache .hypothesis tests/interop/node_modules
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
