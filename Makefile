# The two commands a new user needs: `make run` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test check lint typecheck layers bench install clean browser broker

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

## make run: install, generate a demo fleet into the default database if it is empty, serve UI + API
run: $(STAMP) broker
	$(BIN)/roadpass demo --if-empty
	$(BIN)/roadpass serve

## make test: install, lint, type-check and run the whole test suite
test: $(STAMP) check browser broker
	$(BIN)/python -m pytest

# The browser tests drive Debian's Chromium (Playwright's own browser download is never used). Install it
# when we can (root, apt-get); if that fails the tests skip and say why, so `make test` goes on regardless.
browser:
	@if [ ! -x /usr/bin/chromium ] && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		(apt-get update -qq && apt-get install -y -qq chromium >/dev/null) \
			|| echo "chromium could not be installed: the browser tests will be skipped"; \
	fi

# The telematics ingest speaks MQTT through Debian's Mosquitto; roadpass starts its own broker on a loopback
# port (never the system service). Installed as the browser is; without it the MQTT tests skip and say why.
broker:
	@if ! command -v mosquitto >/dev/null 2>&1 && [ ! -x /usr/sbin/mosquitto ] && [ "$$(id -u)" = 0 ] \
		&& command -v apt-get >/dev/null 2>&1; then \
		(apt-get update -qq && apt-get install -y -qq mosquitto >/dev/null) \
			|| echo "mosquitto could not be installed: the MQTT tests will be skipped"; \
	fi

check: lint typecheck layers

lint: $(STAMP)
	$(BIN)/ruff check src tests bench

typecheck: $(STAMP)
	$(BIN)/mypy src

# The import contract in pyproject.toml: domain packages import neither the store nor a front end, front ends
# never the store, features each other only through declared interfaces.
layers: $(STAMP)
	$(BIN)/lint-imports --no-cache

bench: $(STAMP)
	$(BIN)/python bench/trace_bench.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache
