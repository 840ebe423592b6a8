# One command to set up and try paradvise, one to run the tests (see README.md).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: demo test setup browser clean

$(BIN)/paradvise: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	@touch $@

setup: $(BIN)/paradvise

demo: setup
	$(BIN)/paradvise profile samples/cpu_bound.py

# The HTML report is checked in a real headless Chromium (Debian's package). Where it
# cannot be installed (no root, no apt), that one test skips and says why.
browser:
	@command -v chromium >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 \
		&& apt-get update -qq && apt-get install -y -qq chromium >/dev/null; } \
		|| echo "chromium unavailable: the HTML browser test will be skipped"

test: setup browser
	$(BIN)/python -m pytest -q

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache
