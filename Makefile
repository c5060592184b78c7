# Two commands work on a fresh machine with only Python 3.11+ and make:
#   make demo   install into .venv and run the main job on the bundled study
#   make test   install the dev extras into .venv and run the whole suite (ruff + pytest)

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
QCODE  := $(BIN)/qcode

.PHONY: demo test lint clean help

help:
	@echo "make demo   run qcode on the bundled study (installs into $(VENV))"
	@echo "make test   run ruff and the test suite (installs dev extras into $(VENV))"

$(BIN)/python:
	$(PYTHON) -c 'import sys; sys.exit("qcode needs Python 3.11 or newer") if sys.version_info < (3, 11) else None'
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e .
	@touch $@

$(VENV)/.installed-dev: pyproject.toml $(VENV)/.installed
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $@

demo: $(VENV)/.installed
	@echo "== qcode check: is the bundled study consistent?"
	$(QCODE) check
	@echo
	@echo "== qcode codes: the codebook, with how often each coder used each code"
	$(QCODE) codes
	@echo
	@echo "== qcode transcripts: the interviews, their attributes and codings"
	$(QCODE) transcripts

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check src tests

test: $(VENV)/.installed-dev
	$(BIN)/ruff check src tests
	$(BIN)/python -m pytest -q

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis
