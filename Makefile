# The two commands of the README: `make book` (set up + build the book) and `make test` (set up + test).
# Set-up is idempotent: the virtual environment is rebuilt only when pyproject.toml or the constraints change.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
CONSTRAINTS := requirements/constraints.txt
STAMP := $(VENV)/.installed
# MathJax is served from the built site itself (no CDN: readers and CI may be offline), from the npm registry.
MATHJAX_VERSION := 3.2.2
MATHJAX := book/_static/mathjax/tex-mml-chtml.js
PYTEST_ARGS ?=
# The suite runs on this many processes (pytest-xdist); the book's tests share one (see tests/book).
PYTEST_WORKERS ?= 2

.PHONY: setup book test test-fast bench lock clean help

help:
	@echo "make book   - set up .venv (pinned dependencies) and build the book into _build/html"
	@echo "make test   - set up .venv and run the whole test suite (slow tests included)"
	@echo "make test-fast - the fast tests only (-m 'not slow')"
	@echo "make bench  - run the benchmarks under benchmarks/"
	@echo "make lock   - regenerate $(CONSTRAINTS) from the current environment"

setup: $(STAMP) $(MATHJAX)

$(STAMP): pyproject.toml $(CONSTRAINTS)
	@echo ">>> setting up $(VENV) with pinned dependencies from $(CONSTRAINTS)"
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip setuptools wheel
	$(BIN)/python -m pip install --progress-bar off -c $(CONSTRAINTS) -e ".[all]"
	@touch $(STAMP)
	@echo ">>> $(VENV) is ready"

$(MATHJAX):
	@echo ">>> fetching MathJax $(MATHJAX_VERSION) from the npm registry into book/_static/mathjax"
	@command -v npm >/dev/null || { echo "npm is needed to fetch MathJax: install Node.js (e.g. apt-get install nodejs npm)"; exit 1; }
	npm install --no-save --no-audit --no-fund --loglevel=error --prefix $(VENV)/npm mathjax@$(MATHJAX_VERSION)
	rm -rf book/_static/mathjax && mkdir -p book/_static
	cp -r $(VENV)/npm/node_modules/mathjax/es5 book/_static/mathjax

book: $(STAMP) $(MATHJAX)
	@echo ">>> building the book (chapters are executed; outputs are cached in _build/.jupyter_cache)"
	$(BIN)/jupyter-book build . --warningiserror --keep-going
	@echo ">>> the book is at _build/html/index.html"

test: $(STAMP) $(MATHJAX)
	@echo ">>> running the whole test suite"
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist loadgroup $(PYTEST_ARGS)

test-fast: $(STAMP)
	$(BIN)/python -m pytest -m "not slow" $(PYTEST_ARGS)

bench: $(STAMP)
	$(BIN)/python benchmarks/ops.py

lock: $(STAMP)
	@{ echo "# Pinned versions of every package the course installs (direct and transitive)."; \
	   echo "# Regenerate with 'make lock' after changing dependencies in pyproject.toml."; \
	   echo "# torch is the CPU build: 'pip install torch==2.13.0' takes the local CPU wheel on the course machines."; \
	   $(BIN)/python -m pip freeze --exclude-editable | grep -v -i '^coursepkg' | sed -E 's/^torch==([0-9.]+)\+cpu$$/torch==\1/'; \
	 } > $(CONSTRAINTS)
	@echo ">>> wrote $(CONSTRAINTS)"

clean:
	rm -rf _build
