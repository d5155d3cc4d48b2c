# Every target creates .venv and installs what it needs when missing, so a fresh clone
# needs nothing but Python 3.11+ and make.
PYTHON ?= $(shell command -v python3.11 || command -v python3.12 || command -v python3.13 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: demo test lint bench soak clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@rm -f $(VENV)/.installed-*
	@touch $(STAMP)

demo: $(STAMP)
	$(BIN)/pmsync demo --out demo-output

test: $(STAMP)
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check syncer connectors tests
	$(BIN)/ruff format --check syncer connectors tests
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python tests/bench/run_all.py

# 1,000 daemon cycles against the GitHub emulator with injected faults and SIGKILLs (minutes);
# a 60-cycle version runs in `make test` (tests/soak/test_soak_short.py).
soak: $(STAMP)
	$(BIN)/python tests/soak/soak.py --cycles 1000

clean:
	rm -rf $(VENV) demo-output .pmsync-state.db
