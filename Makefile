# The README's two commands: `make demo` and `make test`. Each creates .venv when
# it is missing and installs the project into it before running.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.portflow-installed

.PHONY: demo test check install bench clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(STAMP): $(PY) pyproject.toml
	$(PY) -m pip install --quiet -e '.[test]'
	@touch $(STAMP)

install: $(STAMP)

# The full demo (dev server + UI, worker, API, a sample port to completion) is
# portflow/demo.py; until it is on main, the demo is the offline check of the sample.
demo: $(STAMP)
	@if [ -f portflow/demo.py ]; then $(PY) -m portflow.demo; \
	else $(PY) starter.py check examples/good-request.yaml; fi

check: $(STAMP)
	$(PY) starter.py check examples/good-request.yaml

test: $(STAMP)
	$(PY) -m pytest

bench: $(STAMP)
	$(PY) -m bench

clean:
	rm -rf var/ .pytest_cache
