# Everything a developer needs, from a fresh clone with only Python 3.11+ present.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 5000
STAMP  := $(VENV)/.installed

.PHONY: install run serve test models ask bench bench-load clean

$(BIN)/python:
	$(PYTHON) -c 'import sys; sys.exit("Python 3.11+ is required") if sys.version_info < (3, 11) else None'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(STAMP): requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/python -m pip install -q -r requirements-dev.txt
	touch $@

install: $(STAMP)

## Development server on 127.0.0.1:$(PORT), no request verification.
run: install
	$(BIN)/python -m simulator.devserver --host 127.0.0.1 --port $(PORT)

## Production webhook under gunicorn: verifies every request; needs SKILL_ID.
serve: install
	PORT=$(PORT) $(BIN)/gunicorn -c webhook/gunicorn.conf.py 'webhook.app:production_app()'

## The whole test suite.
test: install
	$(BIN)/python -m pytest -q

## One-shot question through the local simulator: make ask Q="what is psa"
ask: install
	$(BIN)/python -m simulator --one-shot "$(Q)"

## Regenerate interaction_model/*.json from skill/content.json.
models: install
	$(BIN)/python -m deploy.models --write

## All benchmarks side by side with their baselines (cold start the Lambda way needs a Python 3.12,
## as `make package` does); progress on stderr, the tables in build/bench/results.md.
bench: install
	$(BIN)/python -m bench.run

## The same run, and its tables replace the generated section of the committed BENCHMARKS.md.
bench-record: install
	$(BIN)/python -m bench.run --write

.PHONY: bench-record

## Load test of the production webhook (gunicorn + verification) with wrk; needs `apt-get install wrk`.
bench-load: install
	$(BIN)/python -m bench.load

## Skill package for `ask deploy` in build/; set the endpoint with LAMBDA_ARN=arn:... or HTTPS_URL=https://host/alexa.
skill-package: install
	$(BIN)/python -m deploy.package_skill $(if $(LAMBDA_ARN),--lambda-arn '$(LAMBDA_ARN)') $(if $(HTTPS_URL),--https-url '$(HTTPS_URL)')

## dist/lambda.zip for AWS Lambda (python3.12, x86_64) with bytecode compiled by a local Python 3.12
## (LAMBDA_PYTHON=/path/to/python3.12, else python3.12 on PATH or pyenv's); byte-for-byte reproducible; `sam deploy`.
package: install
	$(BIN)/python -m deploy.package_lambda

.PHONY: skill-package package

clean:
	rm -rf $(VENV) build dist .pytest_cache .hypothesis
