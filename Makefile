# One command each: `make demo` sets up and runs the demo show; `make test` sets up and runs the tests.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin

# With no screen (a server, CI), the demo renders offscreen, throws by itself and saves screenshots.
ifeq ($(strip $(DISPLAY)$(WAYLAND_DISPLAY)),)
DEMO_FLAGS ?= --headless --auto-throw 3 --exit-after 20 --screenshot-dir var/demo-shots --parents
else
DEMO_FLAGS ?= --window --rehearsal
endif

.PHONY: demo test lint bench setup setup-test system-deps clean

demo: $(VENV)/.stamp-base
	$(BIN)/installation run shows/demo $(DEMO_FLAGS)

test: system-deps $(VENV)/.stamp-test
	$(BIN)/ruff check .
	$(BIN)/mypy installation
	$(MAKE) -C hardware/firmware test
	$(BIN)/python -m pytest

lint: $(VENV)/.stamp-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy installation

bench: $(VENV)/.stamp-test
	$(BIN)/python -m bench

setup: $(VENV)/.stamp-base
setup-test: $(VENV)/.stamp-test

system-deps:
	@scripts/system-deps.sh

$(VENV)/.stamp-base: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e .
	touch $@

# torch first, pinned: on a CPU machine 2.13.0 is a CPU build; an unpinned torch pulls CUDA (GBs).
$(VENV)/.stamp-test: pyproject.toml $(VENV)/.stamp-base
	$(BIN)/python -m pip install -q "torch==2.13.0"
	$(BIN)/python -m pip install -q -e ".[ai,test]"
	touch $@

clean:
	rm -rf $(VENV) var shows/*/var .pytest_cache .ruff_cache
