# Two commands do all the set-up: `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: demo test test-fast test-shifted faults lint fmt bench venv clean system-deps docs docs-gen

# Debian packages the tests need: chromium (browser tests, driven by Playwright with no
# download) and the fonts the plate renderers draw with (Latin: DejaVu, Liberation; CJK:
# WenQuanYi Micro Hei and Zen Hei, Noto Sans CJK; Droid Sans Fallback: the renderer-shift
# split only).
# Installed once, when missing.
SYSTEM_PACKAGES := chromium fonts-wqy-microhei fonts-wqy-zenhei fonts-noto-cjk \
  fonts-droid-fallback fonts-dejavu-core fonts-dejavu-extra fonts-liberation
FONT_FILES := /usr/share/fonts/truetype/wqy/wqy-microhei.ttc \
  /usr/share/fonts/truetype/wqy/wqy-zenhei.ttc \
  /usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc \
  /usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf \
  /usr/share/fonts/truetype/dejavu/DejaVuSerifCondensed-Bold.ttf \
  /usr/share/fonts/truetype/liberation/LiberationSansNarrow-Bold.ttf

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev,recognition]'
	touch $(STAMP)

venv: $(STAMP)

system-deps:
	@if [ -x /usr/bin/chromium ] && ls $(FONT_FILES) >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "installing $(SYSTEM_PACKAGES) from Debian"; \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -q $(SYSTEM_PACKAGES) >/dev/null \
	  || (apt-get update -q >/dev/null && \
	      DEBIAN_FRONTEND=noninteractive apt-get install -y -q $(SYSTEM_PACKAGES) >/dev/null); \
	else echo "missing Debian packages: $(SYSTEM_PACKAGES) (install them as root)" >&2; exit 1; fi

demo: $(STAMP)
	$(BIN)/borderflow up

# The suite waits more than it computes (brokers, databases, browsers, workers polling), so
# it runs in PYTEST_WORKERS processes side by side (pytest-xdist), each test file whole in
# one of them (--dist loadfile: a file's module fixtures and its chromium are set up once).
# On the 2-core VM: one process 941-1,036 s, four 383-389 s (2026-12-06); three, the
# default, leave each test more of a core on a machine busy with other work (two tests
# with a broker restart or a 5 s client timeout failed at four under load 9-10).
# PYTEST_WORKERS=0 runs it in one process. --durations: the CI log names the slowest tests.
PYTEST_WORKERS ?= 3
test: $(STAMP) system-deps lint docs
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist loadfile --durations=25

# The inner loop: the unit and property tests (no broker, no database server), ~25 s here.
test-fast: $(STAMP)
	$(BIN)/python -m pytest tests/unit -q

# The whole suite with every Python process's wall clock a year ahead (time-machine, from
# tests/clockshift/sitecustomize.py): nothing may depend on today's date (issue 17).
test-shifted: $(STAMP) system-deps
	BORDERFLOW_TEST_SHIFT_DAYS=365 PYTHONPATH=tests/clockshift \
	  $(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist loadfile

# The fault suite alone (also part of `make test`): SIGKILLed workers, a rebalance between
# two deciders, the broker restarted empty, PostgreSQL connections terminated, poison input.
faults: $(STAMP)
	$(BIN)/python -m pytest -m faults

# The docs site (docs/, mkdocs.yml) into site/, offline; strict: any warning (a broken link,
# a missing page or include) fails, and `make test` runs it first. The reference pages are
# generated from the code by `make docs-gen`; a unit test fails when they are stale.
docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict  # not --quiet: it hides the warnings strict counts

docs-gen: $(STAMP)
	$(BIN)/python scripts/gen_reference.py

lint: $(STAMP)
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/lint-imports

fmt: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: $(STAMP)
	$(BIN)/python bench/pipeline.py
	$(BIN)/python bench/matching.py
	$(BIN)/python bench/capacity.py

clean:
	rm -rf $(VENV) var site .pytest_cache .mypy_cache .ruff_cache
