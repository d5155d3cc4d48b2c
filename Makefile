# Every target creates .venv and installs what it needs when missing, so a fresh clone
# needs nothing but Python 3.11+ and make.
PYTHON ?= $(shell command -v python3.11 || command -v python3.12 || command -v python3.13 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
CKSUM := $(shell cat pyproject.toml | cksum | cut -d' ' -f1)
# One .venv, two installs: `make demo` needs pmsync with its charts extra (the Jira review's
# PNG chart; the demo's state store is SQLite); the other targets need the dev extra, which
# pulls in charts and postgres (the PostgreSQL tests) besides the tools.
DEMO_STAMP := $(VENV)/.installed-demo-$(CKSUM)
STAMP := $(VENV)/.installed-dev-$(CKSUM)

.PHONY: demo test lint bench soak clean

define install
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[$(1)]'
endef

$(STAMP): pyproject.toml
	$(call install,dev)
	@rm -f $(VENV)/.installed-*
	@touch $(STAMP) $(DEMO_STAMP)

$(DEMO_STAMP): pyproject.toml
	$(call install,charts)
	@rm -f $(VENV)/.installed-demo-*
	@touch $(DEMO_STAMP)

demo: $(DEMO_STAMP)
	$(BIN)/pmsync demo --out demo-output

test: $(STAMP)
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check syncer connectors tests
	$(BIN)/ruff format --check syncer connectors tests
	$(BIN)/mypy
	$(BIN)/lint-imports

bench: $(STAMP)
	$(BIN)/python tests/bench/run_all.py

# 1,000 daemon cycles on the GitHub and Jira Cloud emulators together, with injected faults and
# SIGKILLs (minutes); a 40-cycle version runs in `make test` (tests/soak/test_soak_short.py).
# Then 100 runs of each lost-answer fault and of SIGKILL after a Jira comment POST, on Cloud and
# Data Center (a 3-run version runs in `make test`: tests/jira/test_lost_answers.py). Then 50
# trials of a leader SIGSTOPped inside its paced writes, two daemons on PostgreSQL (about 8
# minutes; 3 trials run in `make test`, tests/service/test_fence_pause.py).
soak: $(STAMP)
	$(BIN)/python tests/soak/soak.py --cycles 1000
	$(BIN)/python tests/soak/jira_exactly_once.py --runs 100
	$(BIN)/python tests/soak/fence_pause.py --trials 50

clean:
	rm -rf $(VENV) demo-output .pmsync-state.db
