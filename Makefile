# Two commands on a fresh machine: `make run` and `make test`. Each creates .venv when needed.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
TEST_INSTALLED := $(VENV)/.installed-test

.PHONY: run try test lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(INSTALLED): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(TEST_INSTALLED): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[test,bench]"
	touch $@ $(INSTALLED)

run: $(INSTALLED)  ## start the bot with the settings in .env
	$(BIN)/stepup-bot run

try: $(INSTALLED)  ## chat with the bot in this terminal, no token needed
	$(BIN)/stepup-bot try

lint: $(TEST_INSTALLED)
	$(BIN)/ruff check .

test: $(TEST_INSTALLED) lint  ## the whole suite, offline
	$(BIN)/pytest -n 2 --dist loadfile

bench: $(TEST_INSTALLED)  ## benchmarks; figures go in the README
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis
