# Two commands work on a fresh machine with only Python 3.11+ and make:
#   make demo   install into .venv and run the main job on the bundled study
#   make test   install the dev extras into .venv and run the whole suite
#               (ruff, the import contracts, mypy, pytest)

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
QCODE  := $(BIN)/qcode

.PHONY: demo test lint clean help

help:
	@echo "make demo   run qcode on the bundled study (installs into $(VENV))"
	@echo "make test   run ruff, the import contracts, mypy and the test suite (installs dev extras into $(VENV))"

$(BIN)/python:
	$(PYTHON) -c 'import sys; sys.exit("qcode needs Python 3.11 or newer") if sys.version_info < (3, 11) else None'
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[learn]'
	@touch $@

$(VENV)/.installed-dev: pyproject.toml $(VENV)/.installed
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $@

demo: $(VENV)/.installed
	@echo "== qcode check: is the bundled study consistent?"
	$(QCODE) check
	@echo
	@echo "== qcode codes: the codebook, with how often each coder used each code"
	$(QCODE) codes --format tree
	@echo
	@echo "== qcode transcripts: the interviews, their attributes and codings"
	$(QCODE) transcripts --format table
	@echo
	@echo "== qcode matrix: the share of each school's and each informant group's interviews with each code"
	@echo "   (consensus, the primary coder: the two coders' adjudicated coding)"
	$(QCODE) matrix --by school --measure documents-pct --rollup --format table
	$(QCODE) matrix --by informant_group --measure documents-pct --rollup --format table
	@echo
	@echo "== qcode segments: what principals at Voss said about taking part in the work"
	$(QCODE) segments leadership-involved --where school=Voss --where informant_group=principal --format table
	@echo
	@echo "== qcode autocode --learn --evaluate: suggestions learned from the consensus coding,"
	@echo "   measured by cross-validation grouped by interview, beside the rules (writes nothing)"
	$(QCODE) autocode --learn --evaluate --min-examples 15 --format table
	@echo
	@echo "== writing the matrices as CSV, XLSX and PNG under exports/"
	@mkdir -p exports
	$(QCODE) matrix --by school --measure documents-pct --rollup -o exports/codes-by-school.csv --force
	$(QCODE) matrix --by school --measure documents-pct --rollup -o exports/codes-by-school.xlsx --force --plot exports/codes-by-school.png
	$(QCODE) matrix --by informant_group --measure documents-pct --rollup -o exports/codes-by-informant-group.csv --force
	$(QCODE) matrix --by informant_group --measure documents-pct --rollup -o exports/codes-by-informant-group.xlsx --force --plot exports/codes-by-informant-group.png
	@echo
	@echo "== qcode report: the whole study as one HTML file to hand over"
	$(QCODE) report -o exports/report.html --force
	$(QCODE) report -o exports/report.docx --force

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check src tests bench examples

test: $(VENV)/.installed-dev
	$(BIN)/ruff check src tests bench examples
	$(BIN)/lint-imports
	$(BIN)/mypy
	$(BIN)/python -m pytest -q -n auto

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis
