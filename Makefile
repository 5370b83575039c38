# wi-wizard: every target sets itself up (a .venv made with python3 -m venv, the project installed editable with
# its dev tools). Set-up runs again only when pyproject.toml changes, so repeated runs start at once.
#
#   make run       the wizard on the embedded sandbox (the sandbox starts in the background)
#   make test      lint + type check + the whole test suite, in parallel
#   make lint      ruff + mypy only
#   make screenshots  regenerate the snapshot-tested screen states into screenshots/
#   make bench     the benchmarks, as ratios against baselines measured in the same run (benchmarks/results.md);
#                  ARGS='--quick', or benchmark names and --runs N
#   make matrix    the full crash-and-resume matrix (CI runs a sample of its points)
#   make sandbox   the sandbox in the foreground; pass options with ARGS, e.g. make sandbox ARGS='--faults throttle'
#   make clean     remove the venv and caches (the sandbox state under $WI_WIZARD_HOME stays)

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
ARGS   ?=
# Two test workers per core: about half of the suite's time is spent waiting on sandboxes (emulated LROs, pods,
# propagation), which a second worker per core overlaps (3.5 min instead of 5.5 on 2 cores).
WORKERS ?= $(shell echo $$(( $$(nproc 2>/dev/null || echo 2) * 2 )))

.PHONY: run test lint sandbox clean setup screenshots bench matrix

run: $(STAMP)
	$(BIN)/wi-wizard --sandbox

test: lint
	$(BIN)/pytest -n $(WORKERS)

lint: $(STAMP)
	$(BIN)/ruff check wizard tests
	$(BIN)/mypy

# The screenshots are the snapshot-tested screen states: regenerate the snapshots, check them, then copy them.
screenshots: $(STAMP)
	$(BIN)/pytest -q tests/tui -k snapshots --snapshot-update
	$(BIN)/pytest -q tests/tui -k snapshots
	rm -f screenshots/*.svg
	for f in tests/tui/__snapshots__/*/*.svg; do cp "$$f" screenshots/; done

bench: $(STAMP)
	$(BIN)/python -m benchmarks $(ARGS)

matrix: $(STAMP)
	WI_WIZARD_FULL_MATRIX=1 $(BIN)/pytest -n $(WORKERS) tests/engine/test_crash_safety.py

sandbox: $(STAMP)
	$(BIN)/wi-wizard sandbox serve $(ARGS)

setup: $(STAMP)

# Debian's own python3 ships venv separately (package python3-venv): say so, or install it when we may.
$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
	  { echo "wi-wizard needs Python 3.11 or newer; $(PYTHON) is $$($(PYTHON) -V 2>&1). Run make PYTHON=python3.11 …"; exit 1; }
	@if [ ! -x $(BIN)/python ] || ! $(BIN)/python -m pip --version >/dev/null 2>&1; then \
	  rm -rf $(VENV); \
	  if ! $(PYTHON) -m venv $(VENV) >/dev/null 2>&1; then \
	    rm -rf $(VENV); \
	    if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	      echo "python3 -m venv is missing: installing Debian's python3-venv"; \
	      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null; \
	    else \
	      echo "python3 -m venv does not work here. On Debian/Ubuntu: sudo apt-get install python3-venv"; exit 1; \
	    fi; \
	    $(PYTHON) -m venv $(VENV); \
	  fi; \
	fi
	@echo "Installing wi-wizard and its development tools into $(VENV) (once, and when pyproject.toml changes)…"
	$(BIN)/python -m pip install --disable-pip-version-check --quiet -e '.[dev]'
	@touch $@

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis build dist *.egg-info snapshot_report.html
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
