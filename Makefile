# The course unit's commands. `make lab` and `make test` are all a newcomer needs;
# everything else is for instructors (see README.md).

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
ASSIGNMENT := ex04
# nbgrader shells out to alembic, which lives in the venv.
export PATH := $(abspath $(BIN)):$(PATH)
# Use the platformdirs layout and silence jupyter_core's notice about migrating to it.
export JUPYTER_PLATFORM_DIRS := 1
NBGRADER := $(BIN)/nbgrader
LAB_ARGS ?=
# Jupyter refuses to run as root unless told to (containers, CI machines).
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root,)

.PHONY: sandbox-tools help venv lab instructor test test-fast nbval assignment release-zip collect autograde feedback grades benchmark clean distclean

help:
	@echo "make lab         set up .venv (first time: a few minutes) and open the course in JupyterLab"
	@echo "make test        set up .venv and run every check (unit tests, nbgrader round trip, nbval)"
	@echo "make instructor  JupyterLab on the whole course, with nbgrader's Formgrader"
	@echo "make assignment  regenerate release/$(ASSIGNMENT) and the executed notebooks/$(ASSIGNMENT) from source/"
	@echo "make release-zip zip the student version for an LMS"
	@echo "make collect     unpack LMS downloads from downloaded/$(ASSIGNMENT)/archive into submitted/"
	@echo "make autograde   grade everything in submitted/ (sandboxed, trusted tests; resumable)"
	@echo "make feedback    write HTML feedback to feedback/"
	@echo "make grades      export grades.csv"
	@echo "make benchmark   print import and notebook run times, CNN training, and grading speed (1 and 2 workers)"

# ---------------------------------------------------------------- set-up (idempotent)
venv: $(STAMP) sandbox-tools

$(STAMP): requirements.txt pyproject.toml
	@$(PYTHON) -c 'import sys; v = sys.version_info; sys.exit(0 if v >= (3, 11) else "Python 3.11 or newer is needed (found %d.%d); run make PYTHON=python3.11 ..." % v[:2])'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -qq --upgrade "pip>=24"
	# The lock is complete, so nothing beyond it is resolved: jsonschema's optional IRI checker
	# (rfc3987-syntax) would otherwise come in and add 3 s to every nbformat import.
	$(BIN)/python -m pip install -qq --no-deps -r requirements.txt
	-@$(BIN)/python -m pip uninstall -qq -y rfc3987-syntax lark 2>/dev/null  # left by earlier set-ups
	$(BIN)/python -m pip check
	$(BIN)/python -m pip install -qq --no-deps -e .
	# A kernel named python3 that runs this venv's Python, for JupyterLab, nbgrader and nbval.
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (ex04)" >/dev/null
	# No "get notified about Jupyter news?" pop-up over the course.
	$(BIN)/jupyter labextension disable --level=sys_prefix "@jupyterlab/apputils-extension:announcements" >/dev/null 2>&1
	touch $(STAMP)

# The grading sandbox needs bubblewrap (Debian/Ubuntu package); as root, install it here. Checked
# on every run (a machine may keep .venv but not the system package).
sandbox-tools:
	@command -v bwrap >/dev/null || { if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "installing bubblewrap (the grading sandbox)"; \
		(apt-get install -y -qq bubblewrap >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq bubblewrap >/dev/null)); \
		else echo "NOTE: bubblewrap is missing; make autograde needs it: sudo apt-get install bubblewrap"; fi; }

# ---------------------------------------------------------------- students
lab: venv
	cd release/$(ASSIGNMENT) && ../../$(BIN)/jupyter lab $(ROOT_FLAG) $(LAB_ARGS)

# ---------------------------------------------------------------- instructors
# JupyterLab on the whole course, with nbgrader's Formgrader (it reads ./nbgrader_config.py).
instructor: venv
	$(BIN)/jupyter lab $(ROOT_FLAG) $(LAB_ARGS)

# ---------------------------------------------------------------- checks
# Tests and nbval in one run, spread over every core (TEST_WORKERS=N to choose; conftest.py keeps
# each test file and each notebook in one worker).
TEST_WORKERS ?= auto
NBVAL_FLAGS := --nbval --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg -p no:cacheprovider
test: venv
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadgroup $(NBVAL_FLAGS) tests notebooks/$(ASSIGNMENT)

# Unit tests only (seconds), for quick iterations on helpers/.
test-fast: venv
	$(BIN)/python -m pytest tests -m "not slow"

nbval: venv
	$(BIN)/python -m pytest $(NBVAL_FLAGS) notebooks/$(ASSIGNMENT)

# nbgrader --force deletes release/ and notebooks/ first: keep a copy of uncommitted changes
# there (a student who worked in release/, say) in .backup/ before regenerating.
assignment: venv
	@if git status --porcelain -- release notebooks 2>/dev/null | grep -q .; then \
		backup=.backup/$$(date +%Y%m%d-%H%M%S); mkdir -p $$backup; cp -r release notebooks $$backup/; \
		echo "release/ or notebooks/ had uncommitted changes: copied to $$backup/ before regenerating"; fi
	$(NBGRADER) generate_assignment $(ASSIGNMENT) --force
	$(NBGRADER) generate_solution $(ASSIGNMENT) --force

release-zip: venv
	rm -f $(ASSIGNMENT)-release.zip
	cd release && $(abspath $(BIN))/python -m zipfile -c ../$(ASSIGNMENT)-release.zip $(ASSIGNMENT)
	@echo "wrote $(ASSIGNMENT)-release.zip"

collect: venv
	$(NBGRADER) zip_collect $(ASSIGNMENT) --force

# Student code runs only in the sandbox; UNSAFE_NO_SANDBOX=1 grades without one (trusted work only).
# WORKERS=N grades N notebooks at once (default: one per core); SCHEDULER=tcp://HOST:PORT sends
# the jobs to the workers of a running Dask scheduler instead (README: "Grading on many machines").
autograde: venv
	UNSAFE_NO_SANDBOX=$(UNSAFE_NO_SANDBOX) WORKERS=$(WORKERS) SCHEDULER=$(SCHEDULER) \
		$(BIN)/python -m grading autograde $(ASSIGNMENT)

feedback: venv
	$(NBGRADER) generate_feedback $(ASSIGNMENT)

grades: venv
	$(NBGRADER) export --to grades.csv
	@echo "wrote grades.csv"

benchmark: venv
	$(BIN)/python benchmarks/run.py
	$(BIN)/python benchmarks/train_cnn.py
	$(BIN)/python benchmarks/grading.py

clean:
	rm -rf .pytest_cache tests/__pycache__ helpers/__pycache__ grading/__pycache__ $(ASSIGNMENT)-release.zip

distclean: clean
	rm -rf $(VENV) *.egg-info
