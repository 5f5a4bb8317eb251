# The README's commands. `make run` and `make test` install first; installing is idempotent.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run test lint bench browser

install: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -c constraints.txt -e '.[dev]'
	touch $(STAMP)

run: install
	$(BIN)/streamlit run app.py --server.address 127.0.0.1 --server.port 8501

lint: install
	$(BIN)/ruff check .
	$(BIN)/mypy engine connectors store report

# The browser tests use a Chromium they find (Debian's, or one Playwright installed before);
# where there is none, try Playwright's own (which needs the internet).
browser: install
	@command -v chromium >/dev/null || command -v chromium-browser >/dev/null \
		|| ls $$HOME/.cache/ms-playwright/chromium-* >/dev/null 2>&1 \
		|| $(BIN)/playwright install chromium || echo "no Chromium: browser tests will skip"

test: lint browser
	$(BIN)/python -m pytest -q

bench: install
	$(BIN)/python -m bench.run
