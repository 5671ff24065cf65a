# Two commands on a fresh machine: `make run` and `make test`. Each creates .venv when needed and
# installs exactly the versions in the lock files, checked against their hashes.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
TEST_INSTALLED := $(VENV)/.installed-test
# The one tool that writes the lock files; pinned so two people refreshing get the same result.
UV_VERSION := 0.13.9
COMPILE := $(BIN)/uv pip compile pyproject.toml --group build --universal --python-version 3.11 \
	--generate-hashes --no-header --no-annotate --quiet

.PHONY: run try test lint bench lock clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# --no-build-isolation: the build backend (setuptools) comes from the lock too.
$(INSTALLED): requirements.lock pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $@

$(TEST_INSTALLED): requirements-dev.lock pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements-dev.lock
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $@ $(INSTALLED)

run: $(INSTALLED)  ## start the bot with the settings in .env
	$(BIN)/stepup-bot run

# Options go through ARGS (make reads `make try --language pt` as its own options).
try: $(INSTALLED)  ## chat with the bot in this terminal, no token or network needed
	$(BIN)/stepup-bot try --sample-data $(ARGS)

lint: $(TEST_INSTALLED)
	$(BIN)/ruff check .

test: $(TEST_INSTALLED) lint  ## the whole suite, offline
	$(BIN)/pytest -n 2 --dist loadfile

bench: $(TEST_INSTALLED)  ## benchmarks; figures go in the README
	$(BIN)/python -m bench

lock: | $(BIN)/python  ## after changing dependencies in pyproject.toml: newest versions allowed, with hashes
	$(BIN)/python -m pip install --quiet "uv==$(UV_VERSION)"
	$(COMPILE) --upgrade -o requirements.lock
	$(COMPILE) --extra test --extra bench -c requirements.lock -o requirements-dev.lock

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis
