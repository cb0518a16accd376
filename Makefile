# Two commands do everything on a fresh machine: `make run` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# A test process per core (pytest-xdist), at most four: each builds its own search index.
PYTEST_PARALLEL ?= -n auto --maxprocesses=4

.PHONY: run test lint typecheck pytest eval bench content-check migrate clean browser

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

## Start the bot: Slack (Socket Mode) when tokens are set, otherwise a local console chat.
run: $(STAMP)
	$(BIN)/samsyv db upgrade
	$(BIN)/samsyv run

## Debian's Chromium for the browser tests (tests/test_browser.py), installed when missing and we may;
## without it those tests say so in one line and skip. Never a browser downloaded by a test tool.
browser:
	@command -v chromium >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 \
		&& (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
		|| echo "chromium not installed: the browser tests will skip"; }

## Lint, type-check, check the content and run the tests (the browser tests with Debian's Chromium): on SQLite,
## then again on PostgreSQL (TEST_POSTGRES_URL) for every test that touches the database; REQUIRE_POSTGRES=1
## fails when it is unreachable.
test: $(STAMP) browser
	$(BIN)/ruff check bot handlers tests bench
	$(BIN)/mypy
	$(BIN)/samsyv content check
	$(BIN)/pytest -q $(PYTEST_PARALLEL) --durations=10
	DB_BACKEND=postgres $(BIN)/pytest -q $(PYTEST_PARALLEL) --durations=10

## Answer-quality evaluation over the shared dev set and our own sets.
eval: $(STAMP)
	$(BIN)/python -m bot.questions.evaluate

## Speed and memory figures: the question engine; the answer write path against a bare Bolt app;
## then two HTTP instances on PostgreSQL (TEST_POSTGRES_URL) when one is reachable.
bench: $(STAMP)
	$(BIN)/python -m bot.bench
	$(BIN)/python -m bench.taps
	$(BIN)/python -m bot.bench_region

migrate: $(STAMP)
	$(BIN)/samsyv db upgrade

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
