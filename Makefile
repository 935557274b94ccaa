# The two commands of the README: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "syndicator needs Python 3.11 or newer")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $(STAMP)

run: $(STAMP)
	$(BIN)/syndicator db upgrade
	$(BIN)/syndicator demo
	exec $(BIN)/syndicator run

# axe-core for the browser tests and doiuse-email for the caniemail lint (npm ci from the
# lock file); without npm they skip.
AXE := node_modules/axe-core/axe.min.js
$(AXE): package.json package-lock.json
	@if command -v npm >/dev/null; then npm ci --no-audit --no-fund --loglevel=error; \
	else echo "make: npm not found: the browser tests will skip (no axe-core)"; fi

# The static checks come first and are part of the test command (pyproject.toml holds
# their configuration): lint, the import layers of docs/adr/008-layout.md, strict types.
lint: $(STAMP)
	$(BIN)/ruff check syndicator tests bench
	$(BIN)/lint-imports
	$(BIN)/mypy

test: lint $(AXE)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

clean:
	rm -rf var .pytest_cache
