PYTHON ?= python3
DEVSET ?= ../shared/devset

.PHONY: install test lint train evaluate bench clean

install:  ## install the package, its dependencies and the test tools
	$(PYTHON) -m pip install -e '.[test]'

test:
	$(PYTHON) -m pytest -q

lint:
	$(PYTHON) -m ruff check classifier tests

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
