# Scout: `make run` (set up and start on demo data) and `make test` (set up and run all tests).
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint format bench migrate clean

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -r requirements-dev.txt
	touch $(STAMP)

# Set up, migrate, load the demo data if the store is empty, train, then start the bot:
# the console when no Slack tokens are set, Socket Mode with SLACK_APP_TOKEN, HTTP otherwise.
run: $(STAMP)
	$(BIN)/python -m models migrate
	$(BIN)/python -m engine demo --if-empty
	$(BIN)/python -m engine train
	$(BIN)/python -m bot auto

test: $(STAMP)
	$(BIN)/python -m pytest -q -p no:cacheprovider

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
