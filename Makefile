# Two commands do all the set-up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# The editable install is setuptools' strict mode: a tree of links under build/ that IDEs and type
# checkers follow. A new or removed file changes its folder, which re-installs to relink.
PKG_DIRS := $(shell find src sim contracts experiments -type d -not -name __pycache__ 2>/dev/null)
# Markers outside the fast suite; `make test-more` runs them, and CI runs both.
MORE   := slow or integration or browser or calibration

.PHONY: run test test-more test-all lint bench clean

$(STAMP): pyproject.toml $(PKG_DIRS)
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "effekt needs Python 3.11 or newer, found " + sys.version.split()[0]'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	PYTHONWARNINGS="ignore:::setuptools.command.editable_wheel" $(BIN)/python -m pip install --quiet --config-settings editable_mode=strict -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/effekt run
	@echo "effekt is installed at $(CURDIR)/$(BIN)/effekt; to call it as plain 'effekt':"
	@echo "  export PATH=\"$(CURDIR)/$(BIN):\$$PATH\""
	@echo "Change the numbers in your browser instead: $(BIN)/effekt app (docs/app.md)"

test: $(STAMP)
	$(BIN)/python -m pytest -q

test-more: $(STAMP)
	$(BIN)/python -m pytest -q -m "$(MORE)"

test-all: $(STAMP)
	$(BIN)/python -m pytest -q -m ""

lint: $(STAMP)
	$(BIN)/ruff check .

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_engine.py

clean:
	rm -rf $(VENV) build results .pytest_cache
