# Openjourney Studio: `make run` starts the studio, `make test` runs every check.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
DIFFUSERS_STAMP := $(VENV)/.diffusers-stamp
PIP := $(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt

.PHONY: run test test-fast lint format superuser bench clean-venv lock diffusers

$(STAMP): pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Openjourney Studio needs Python 3.11 or newer; this is " + sys.version.split()[0] + ". Set PYTHON=python3.11 (or newer).")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP) -e '.[dev]'
	@touch $(STAMP)

# Optional: the engine's diffusers backend (docs/diffusers.md), about 1.3 GB. torch comes
# first and exactly, so pip takes the build on disk and never resolves a newer CUDA one.
$(DIFFUSERS_STAMP): $(STAMP)
	$(PIP) 'torch==2.13.0'
	$(PIP) -e '.[dev,diffusers]'
	@touch $(DIFFUSERS_STAMP)

diffusers: $(DIFFUSERS_STAMP)

run: $(STAMP)
	$(BIN)/python -m studio.launcher

# Everything: lint, then the fast tier on SQLite and on PostgreSQL, and the process tier
# (worker, live server, browser, chaos, launcher) once, side by side (scripts/run_tests.py).
test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python scripts/run_tests.py

# The fast tier on SQLite, on every core: no worker, live server, browser or subprocess
# (tests/tiers.py). Its times: docs/performance.md, "Test suite".
test-fast: $(STAMP)
	DATABASE_URL= $(BIN)/python -m pytest -m "not process" -n auto --dist worksteal -q --durations=20

lint: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

superuser: $(STAMP)
	$(BIN)/python manage.py createsuperuser

# Every benchmark under bench/ at a small size, so the whole run takes minutes; each prints
# its figures and its target. docs/performance.md gives the full-size command of each.
BENCH_RUNS := \
	"create_submit.py --submissions 30" \
	"zip_download.py --images 500 --image-kb 256" \
	"live_pages.py --users 10 --pages-per-user 5 --jobs 2 --idle-seconds 5" \
	"live_updates.py --rounds 2 --count 4" \
	"gallery.py --images 10000 --requests 20" \
	"follow.py --jobs 100 --job-seconds 10 --baseline-seconds 20" \
	"engine.py --runs 2 --jobs 4 --ultra-jobs 1 --sequential 2" \
	"slow_links.py --rounds 1 --fetch-timeout 5"

bench: $(STAMP)
	@status=0; for run in $(BENCH_RUNS); do \
		echo "== bench/$$run"; $(BIN)/python bench/$$run || status=1; echo; \
	done; exit $$status

# Re-pin constraints.txt from what is installed now (after changing pyproject.toml).
lock: $(STAMP)
	$(BIN)/python -m pip freeze --exclude-editable | grep -v '^-e ' \
		| sed 's/^torch==\([0-9.]*\)+cpu$$/torch==\1/' > constraints.txt

clean-venv:
	rm -rf $(VENV)
