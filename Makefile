# The README's two commands: `make demo` and `make test`. Each creates .venv when
# it is missing and installs the project into it before running.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.portflow-installed

.PHONY: demo test check install bench faults fuzz clean replay scale

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(STAMP): $(PY) pyproject.toml
	$(PY) -m pip install --quiet -e '.[test]'
	@touch $(STAMP)

install: $(STAMP)

# The full demo: dev server + UI, worker, API, a sample port run to completion
# (devtools/demo.py). Ctrl-C stops everything it started.
demo: $(STAMP)
	$(PY) -m devtools.demo

check: $(STAMP)
	$(PY) starter.py check examples/good-request.yaml

# Replay every port in flight on the configured server (PORTFLOW_TEMPORAL_*) on this
# tree's workflow code before deploying it (docs/upgrades.md); QUERY= narrows it.
replay: $(STAMP)
	$(PY) starter.py replay $(if $(QUERY),--query "$(QUERY)")

# Two test processes, each taking whole files (module fixtures and servers are not shared
# across files anyway); TEST_WORKERS=0 runs them in this process, one after another.
TEST_WORKERS ?= 2
test: $(STAMP)
	$(PY) -m pytest $(if $(filter 0,$(TEST_WORKERS)),,-n $(TEST_WORKERS) --dist loadfile)

bench: $(STAMP)
	$(PY) -m bench

# The fault suite: ports through the CLI while the worker is SIGKILLed, the server restarted
# and the carrier fails on purpose (faults/; `make test` runs its --quick subset).
faults: $(STAMP)
	$(PY) -m faults

# Issue 15's scale-out proof at full size: 3 worker processes, 200 ports, one worker SIGKILLed,
# carrier calls within the rate limit (make test runs 20 ports: tests/deploy/test_scale_out.py).
SCALE_PORTS ?= 200
scale: $(STAMP)
	$(PY) -m bench.scaleout --ports $(SCALE_PORTS) --workers 3 --calls-per-second 10

# The fuzz suite with many random examples per reader (make test runs a bounded,
# derandomized share of it). FUZZ_EXAMPLES=20000 make fuzz for a longer run.
FUZZ_EXAMPLES ?= 3000
fuzz: $(STAMP)
	PORTFLOW_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(PY) -m pytest tests/fuzz -p no:cacheprovider -q

clean:
	rm -rf var/ .pytest_cache
