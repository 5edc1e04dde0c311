# kfed developer commands. Every target sets up its own virtual environment first (.venv), so a
# fresh machine with only Python 3.11+ and pip needs nothing else:
#   make demo    set up and run kfed's main job: the 2016 walk-through, end to end, in about 15 s
#   make test    set up, lint, type-check, check import layers, run the default test suite
#   make sim     set up and run the nine simulated clusters of the 2016 walk-through
# See README.md for the rest.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.kfed-installed
PKGS   := protos hub agent plugins/local plugins/gcp plugins/aws plugins/openstack demo
PYPROJECTS := $(foreach p,$(PKGS),$(p)/pyproject.toml)

.PHONY: setup demo test test-fast test-all lint typecheck layers sim bench bench-sim bench-sync bench-planning bench-failover bench-glb clean

setup: $(STAMP)

$(STAMP): $(PYPROJECTS) requirements-dev.txt constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "kfed needs Python 3.11 or newer; set PYTHON=/path/to/python3.11")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=24"
	$(BIN)/python -m pip install --quiet -c constraints.txt -r requirements-dev.txt $(foreach p,$(PKGS),-e $(p))
	@touch $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

layers: $(STAMP)
	$(BIN)/lint-imports

# The default suite (what CI and the README run). Slow suites are opt-in: make test-all.
test: lint typecheck layers
	$(BIN)/pytest

test-fast: $(STAMP)
	$(BIN)/pytest -x -q

test-all: lint typecheck layers
	KFED_SLOW=1 $(BIN)/pytest

# DEMO_ARGS="--keep" leaves everything running afterwards.
DEMO_ARGS ?=

demo: $(STAMP)
	$(BIN)/kfed demo $(DEMO_ARGS)

sim: $(STAMP)
	$(BIN)/kfed sim up --preset seed --kubeconfig sim-kubeconfig.yaml

# Benchmarks print figures and ratios; they assert nothing. bench-sync takes about two minutes
# (100 and 1,000 clusters, then a reconnect with 10,000 objects); a smoke run:
#   make bench-sync SYNC_BENCH_ARGS="--quick"      (also: --json FILE, --clusters N,N, --seed S)
SYNC_BENCH_ARGS ?=

bench: bench-sim bench-sync bench-planning bench-failover bench-glb

bench-sim: $(STAMP)
	$(BIN)/python bench/sim_bench.py

bench-sync: $(STAMP)
	$(BIN)/python -m bench.sync_bench $(SYNC_BENCH_ARGS)

# Replica scheduling: time per workload at 10, 100 and 1,000 clusters, a re-plan of 10,000
# workloads (about ten seconds; smoke run: .venv/bin/python -m bench.planning_bench --quick).
bench-planning: $(STAMP)
	$(BIN)/python -m bench.planning_bench

# Failover: a cluster's agent frozen (SIGSTOP) until its replicas are requested elsewhere, with
# the hub's default health timings (about 40 seconds).
bench-failover: $(STAMP)
	$(BIN)/python -m bench.failover_bench

# The local provider's global load balancer: proxy overhead against direct requests, and
# failover of a client when its closest cluster is lost (about a minute).
bench-glb: $(STAMP)
	$(BIN)/python bench/glb_bench.py

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
