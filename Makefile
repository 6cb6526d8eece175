# Scout: `make run` (set up and start on demo data) and `make test` (set up and run all tests).
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
RUN_STAMP := $(VENV)/.installed-run

.PHONY: run test test-fast lint format bench migrate clean

# `make run` needs only the runtime; `make test` adds the dev tools and the optional
# Spark backend (requirements-spark.txt: pyspark is a 456 MB download).
$(RUN_STAMP): requirements.txt
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -r requirements.txt
	touch $(RUN_STAMP)

$(STAMP): requirements.txt requirements-dev.txt requirements-spark.txt
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -r requirements-dev.txt
	touch $(STAMP) $(RUN_STAMP)

# Set up, migrate, load the demo data if the store is empty, train, then start the bot:
# the console when no Slack tokens are set, Socket Mode with SLACK_APP_TOKEN, HTTP otherwise.
run: $(RUN_STAMP)
	$(BIN)/python -m models migrate
	$(BIN)/python -m engine demo --if-empty
	$(BIN)/python -m engine train
	$(BIN)/python -m bot auto

# Both lanes run on every core (pytest-xdist); --dist loadfile keeps a module's tests in
# one worker so its module fixtures are built once. TEST_WORKERS=0 runs in one process.
TEST_WORKERS ?= auto
XDIST = -n $(TEST_WORKERS) --dist loadfile

test: $(STAMP)
	$(BIN)/python -m pytest -q -p no:cacheprovider $(XDIST)

# The fast lane while you work: every test not marked slow (no served bot, no clock
# subprocess, no training on real data). `make test` stays the whole suite.
test-fast: $(STAMP)
	$(BIN)/python -m pytest -q -p no:cacheprovider $(XDIST) -m "not slow"

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: $(STAMP)
	$(BIN)/python -m benchmarks

migrate: $(STAMP)
	$(BIN)/python -m models migrate

clean:
	rm -rf $(VENV) data scout.db .pytest_cache .ruff_cache
