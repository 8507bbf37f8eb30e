# The course in two commands:  make lab  (set up on first use, open JupyterLab)
#                              make test (set up on first use, run every test)
# Python 3.11, 3.12 or 3.13: the newest found, or the one named with  make PYTHON=python3.12 ...
# (A candidate counts only if it runs: pyenv's shims exist for versions that are not enabled.)
PYTHON ?= $(shell for p in python3.13 python3.12 python3.11 python3; do \
	$$p -c '' >/dev/null 2>&1 && { command -v $$p; break; }; done)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

# Every kernel and test process runs with these (see course_utils/__init__.py for why).
export PYTHONHASHSEED       := 0
export KERAS_BACKEND        := tensorflow
export TF_CPP_MIN_LOG_LEVEL := 3
export TF_ENABLE_ONEDNN_OPTS := 0

NOTEBOOKS := $(sort $(wildcard notebooks/[0-9][0-9]_*.ipynb))
# nbval re-runs the lessons and the exercise solutions; the student versions are stored blank
# and tested by tests/test_exercises.py instead.
SOLUTIONS := $(sort $(wildcard notebooks/exercises/solutions/[0-9][0-9]_*_solutions.ipynb))

.PHONY: setup lab test unit notebooks seeds seed-sweep lint lessons nb benchmarks clean exercises slides figures book

setup: $(STAMP)

$(STAMP): requirements.txt pyproject.toml tools/install_kernel.py
	@$(PYTHON) tools/check_python.py
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	$(BIN)/python tools/install_kernel.py
	$(BIN)/python tools/book.py fetch --best-effort
	touch $(STAMP)

# JupyterLab rooted at the repository, opening on notebooks/, offline and without the news
# prompt: every setting is in tools/lab.py (the browser test starts it the same way).
lab: setup
	$(BIN)/python tools/lab.py

# The one test command (.ci/run calls it): lint, unit tests, every notebook under nbval, then
# every lesson and solution once more with other random draws (COURSE_SEED=1): its asserts must
# hold there too.
# The nbval run and the sweep go side by side (2 cores: much of a lesson is one-threaded
# Python), each target's output printed whole when it ends.
test: setup lint unit
	$(MAKE) --no-print-directory -j2 --output-sync=target notebooks seed-sweep

lint: setup
	$(BIN)/ruff check course_utils tests benchmarks tools notebooks

unit: setup
	$(BIN)/pytest -q tests

notebooks: setup
	$(BIN)/pytest -q --nbval --sanitize-with tests/nbval_sanitize.cfg --durations=0 \
		--nbval-cell-timeout=600 $(NOTEBOOKS) $(SOLUTIONS)

# Execute every lesson and solution with COURSE_SEED=1..4 (asserts only; outputs not compared).
seeds: setup
	$(BIN)/python tools/seeds.py --seeds 1 2 3 4

seed-sweep: setup
	$(BIN)/python tools/seeds.py --seeds 1

# Regenerate the student exercise notebooks from notebooks/exercises/solutions/.
exercises: setup
	$(BIN)/python tools/exercises.py

# Execute every lesson headless (no comparison); stops at the first cell error.
lessons: setup
	@for nb in $(NOTEBOOKS); do \
		echo "== $$nb"; \
		$(BIN)/jupyter nbconvert --to notebook --execute --stdout "$$nb" > /dev/null || exit 1; \
	done

# Refresh one notebook's stored outputs: make nb NB=notebooks/04_rnn_from_scratch.ipynb
nb: setup
	$(BIN)/jupyter nbconvert --to notebook --execute --inplace --ExecutePreprocessor.timeout=1200 "$(NB)"

benchmarks: setup
	@for b in benchmarks/*.py; do echo "== $$b"; $(BIN)/python "$$b" || exit 1; done

# Static reveal.js slides of every lesson into slides/ (open slides/index.html; works offline:
# reveal.js and MathJax are fetched once, checked and cached). New lesson? python tools/slides.py tag
slides: setup
	$(BIN)/python tools/slides.py build --out slides $(NOTEBOOKS)

# The course website from the stored notebooks (nothing is executed): build/book/html/index.html,
# with search and the slides, readable offline (MathJax fetched once from npm, checked, cached).
book: setup
	$(BIN)/python tools/book.py build

# Redraw every figure in img/ from code (runs lesson 03 once for its learned map, ~1 min).
figures: setup
	$(BIN)/python tools/draw_figures.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
