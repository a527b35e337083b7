# Kabinet: `make run` starts the app on the embedded demo portal; `make test` runs the whole test suite
# (in parallel; TEST_WORKERS=0 for one process).
# Each creates and fills its own virtual environment (.venv) on first use.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint portal demo-accounts bench schemathesis clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/python app.py $(ARGS)

# In parallel (pytest-xdist): most tests wait on the portal, subprocesses and terminals, so more
# workers than cores pay off. TEST_WORKERS=0 runs in one process.
TEST_WORKERS ?= 4

test: $(STAMP)
	$(BIN)/python -m pytest -n $(TEST_WORKERS) $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache

portal: $(STAMP)
	$(BIN)/kabinet-portal serve --demo $(ARGS)

demo-accounts: $(STAMP)
	$(BIN)/kabinet-portal demo-accounts --demo

bench: $(STAMP)
	$(BIN)/python bench/portal.py $(ARGS)

# The long fuzz run: the demo on PostgreSQL (KABINET_FUZZ_PG_URL), kabinet-portal serve --workers 4,
# st run --checks all logged in and anonymous. ARGS e.g. "--examples 500 --port 8790".
schemathesis: $(STAMP)
	$(BIN)/python bench/schemathesis_long.py $(ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
