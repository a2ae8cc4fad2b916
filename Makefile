PYTHON ?= python3
DEVSET ?= ../shared/devset

.PHONY: install test lint fuzz train evaluate bench clean

install:  ## install the package, its dependencies and the test tools
	$(PYTHON) -m pip install -e '.[test]'

test:
	$(PYTHON) -m pytest -q

lint:
	$(PYTHON) -m ruff check classifier tests

FUZZ_SEED ?= 20261123
FUZZ_EXAMPLES ?= 3000

fuzz:  ## the property tests, FUZZ_EXAMPLES examples each from FUZZ_SEED: reproducible, about an hour on 2 cores
	HYPOTHESIS_PROFILE=fuzz FUZZ_SEED=$(FUZZ_SEED) FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) \
		$(PYTHON) -m pytest -q tests/test_properties.py --hypothesis-show-statistics

train:  ## retrain the shipped model on labeled/ (cross-validated by site)
	classifier train labeled --output models/default

evaluate:  ## scores on the hand-labeled real pages, with the keep-every-line reference
	classifier evaluate $(DEVSET) --baseline

bench:  ## throughput, start-up and memory against baselines (installs the baselines first)
	$(PYTHON) -m pip install -q -e '.[bench]'
	$(PYTHON) benchmarks/bench.py

clean:
	rm -rf build dist *.egg-info .pytest_cache .hypothesis
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
