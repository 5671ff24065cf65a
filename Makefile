# Two commands on a fresh machine: `make run` and `make test`. Each creates .venv when needed and
# installs exactly the versions in the lock files, checked against their hashes, and nothing
# else: after a lock changes, packages it no longer lists are removed.
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

# pip install only adds and upgrades. After installing a lock, what it does not list (a
# dependency since dropped from pyproject.toml, a package installed by hand) is uninstalled, so
# .venv holds exactly the lock. Names compare as PyPI compares them (PEP 503); the project itself
# (installed editable) stays. Usage: $(call remove_unlisted,<lock file>)
UNLISTED = import re, sys; from importlib.metadata import distributions; \
	name = lambda text: re.sub('[-_.]+', '-', text).lower(); \
	lock = open(sys.argv[1]).read(); \
	listed = {name(found) for found in re.findall(r'^([A-Za-z0-9][A-Za-z0-9._-]*)==', lock, re.M)}; \
	installed = {name(dist.metadata['Name']) for dist in distributions()}; \
	print(*sorted(installed - listed - {'stepup-bot'}))
remove_unlisted = unlisted="$$($(BIN)/python -c "$(UNLISTED)" $(1))"; \
	if [ -n "$$unlisted" ]; then $(BIN)/python -m pip uninstall --quiet --yes $$unlisted; fi

# --no-build-isolation: the build backend (setuptools) comes from the lock too. The test tools
# are gone after the first, so it marks them to be installed again.
$(INSTALLED): requirements.lock pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements.lock
	$(call remove_unlisted,requirements.lock)
	rm -f $(TEST_INSTALLED)
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $@

$(TEST_INSTALLED): requirements-dev.lock pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements-dev.lock
	$(call remove_unlisted,requirements-dev.lock)
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
