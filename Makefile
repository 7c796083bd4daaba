# The course unit's commands. `make lab` and `make test` are all a newcomer needs;
# everything else is for instructors (see README.md).

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
ASSIGNMENT := ex04
# ASSIGNMENTS=DIR: a folder of assignment packages besides grading/ (README: "Adding an assignment"),
# exported so that every command and the nbgrader it starts find them.
ASSIGNMENTS ?=
ifneq ($(strip $(ASSIGNMENTS)),)
export GRADING_ASSIGNMENTS_PATH := $(abspath $(ASSIGNMENTS))$(if $(GRADING_ASSIGNMENTS_PATH),:$(GRADING_ASSIGNMENTS_PATH))
endif
# What the assignment is about: the heading of the students' README in the bundle.
ASSIGNMENT_TITLE := Convolutional neural networks
TORCH_VERSION := $(shell sed -n 's/^torch==//p' requirements.txt)
TORCH_CPU_INDEX ?= https://download.pytorch.org/whl/cpu
# nbgrader shells out to alembic, which lives in the venv.
export PATH := $(abspath $(BIN)):$(PATH)
# Use the platformdirs layout and silence jupyter_core's notice about migrating to it.
export JUPYTER_PLATFORM_DIRS := 1
NBGRADER := $(BIN)/nbgrader
LAB_ARGS ?=
# Jupyter refuses to run as root unless told to (containers, CI machines).
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root,)

.PHONY: sandbox-tools help venv lab instructor test test-fast nbval assignment student-bundle release-zip solutions-html collect autograde dask-certs feedback feedback-zip grades report similarity benchmark clean distclean browser-tools

help:
	@echo "make lab         set up .venv (first time: a few minutes) and open the course in JupyterLab"
	@echo "make test        set up .venv and run every check (unit tests, nbgrader round trip, nbval)"
	@echo "make instructor  JupyterLab on the whole course, with nbgrader's Formgrader"
	@echo "make assignment  regenerate release/$(ASSIGNMENT) and the executed notebooks/$(ASSIGNMENT) from source/"
	@echo "make student-bundle  dist/$(ASSIGNMENT)-student.zip: what students get (notebooks, helpers wheel, pins, README)"
	@echo "make solutions-html  dist/ex04-solutions-html/: the executed solutions as offline HTML, to publish"
	@echo "make collect     unpack LMS downloads from downloaded/$(ASSIGNMENT)/archive into submitted/"
	@echo "make autograde   grade what changed in submitted/ (sandboxed, trusted tests; resumable); STUDENT=id or TEST=grade_id: that again"
	@echo "make dask-certs  dask-certs/: TLS certificates for make autograde SCHEDULER=tls://... and its Dask cluster"
	@echo "make feedback    write HTML feedback to feedback/ for every student whose feedback changed (FORCE=1: all)"
	@echo "make grades      export grades.csv and grades-moodle.csv (Moodle's grading worksheet); says what is provisional"
	@echo "make feedback-zip  feedback-moodle.zip: the feedback files for Moodle's \"Upload multiple feedback files in a zip\""
	@echo "make report      reports/$(ASSIGNMENT)/class.html and items.csv: per test, what the class got right and wrong"
	@echo "make similarity  reports/$(ASSIGNMENT)/similarity.html and .csv: pairs of students with alike solution code"
	@echo "make benchmark   timings: imports, notebooks, training; grading against its floor, a class, a regrade, Dask"

# ---------------------------------------------------------------- set-up (idempotent)
venv: $(STAMP) sandbox-tools

$(STAMP): requirements.txt pyproject.toml Makefile
	@$(PYTHON) -c 'import sys; v = sys.version_info; sys.exit(0 if v >= (3, 11) else "Python 3.11 or newer is needed (found %d.%d); run make PYTHON=python3.11 ..." % v[:2])'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -qq --upgrade "pip>=24"
	# Linux without an NVIDIA GPU: PyTorch's CPU build (about 200 MB) from PyTorch's own index,
	# not PyPI's CUDA build (several GB). torch==2.13.0 in requirements.txt accepts 2.13.0+cpu.
	@if [ "$$(uname -s)" = Linux ] && ! command -v nvidia-smi >/dev/null 2>&1 && ! $(BIN)/python -c "import torch" 2>/dev/null; then \
		$(BIN)/python -m pip install -qq --no-deps --retries 1 --timeout 15 --index-url $(TORCH_CPU_INDEX) "torch==$(TORCH_VERSION)+cpu" \
		|| echo "NOTE: PyTorch's CPU index ($(TORCH_CPU_INDEX)) is not reachable: torch comes from the default index instead (on Linux that may be the CUDA build, several GB)"; fi
	# The lock is complete, so nothing beyond it is resolved: jsonschema's optional IRI checker
	# (rfc3987-syntax) would otherwise come in and add 3 s to every nbformat import.
	$(BIN)/python -m pip install -qq --no-deps -r requirements.txt
	-@$(BIN)/python -m pip uninstall -qq -y rfc3987-syntax lark 2>/dev/null  # left by earlier set-ups
	$(BIN)/python -m pip check
	$(BIN)/python -m pip install -qq --no-deps -e .
	# A kernel named python3 that runs this venv's Python, for JupyterLab, nbgrader and nbval. Its
	# name and display name are those the notebooks record, so that opening one changes nothing.
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (ipykernel)" >/dev/null
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

# make test drives the student bundle's JupyterLab in headless Chromium (tests/test_bundle.py) and
# unpacks the bundle as a student does; as root, install Debian's Chromium, its driver and unzip.
browser-tools:
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null && command -v unzip >/dev/null || { \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "installing chromium, chromium-driver and unzip (the browser test of the student bundle)"; \
		(apt-get install -y -qq chromium chromium-driver unzip >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq chromium chromium-driver unzip >/dev/null)); \
		else echo "NOTE: make test needs chromium, chromium-driver and unzip: sudo apt-get install chromium chromium-driver unzip"; fi; }

# ---------------------------------------------------------------- students
# The student versions, in a Lab without nbgrader's instructor tools (etc/jupyter-student/).
lab: venv
	cd release/$(ASSIGNMENT) && JUPYTER_CONFIG_PATH="$(CURDIR)/etc/jupyter-student" \
		../../$(BIN)/jupyter lab $(ROOT_FLAG) $(LAB_ARGS)

# ---------------------------------------------------------------- instructors
# JupyterLab on the whole course, with nbgrader's Formgrader (it reads ./nbgrader_config.py).
# Formgrader's Release and Collect need the exchange folder (nbgrader_config.py: Exchange.root) to
# exist, writable by everyone as nbgrader expects; on a shared server it is the shared one.
instructor: venv
	@mkdir -p exchange && chmod 0777 exchange
	$(BIN)/jupyter lab $(ROOT_FLAG) $(LAB_ARGS)

# ---------------------------------------------------------------- checks
# Tests and nbval in one run, spread over every core (TEST_WORKERS=N to choose). --dist loadscope
# keeps each test module (or class) and each notebook in one worker, in order.
TEST_WORKERS ?= auto
NBVAL_FLAGS := --nbval --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg -p no:cacheprovider
test: venv browser-tools
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadscope $(NBVAL_FLAGS) tests notebooks/$(ASSIGNMENT)

# ruff and the tests not marked slow, the trusted tests run in-process among them: 12 s of CPU time,
# as pytest's last line says (tests/README.md: what is where). One process: two workers would each
# import everything again, which costs more than it saves on two cores.
test-fast: venv
	$(BIN)/ruff check .
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

# The unit as students get it (never this repository): release notebooks, the helpers wheel,
# exact pins and a README with the set-up commands for Linux, macOS and Windows.
student-bundle: venv
	$(BIN)/python -m grading.course.bundle $(ASSIGNMENT) --title "$(ASSIGNMENT_TITLE)"

# The executed solutions as HTML to publish after the deadline: formulas as MathML, figures with
# alt text, nothing loaded from the internet.
solutions-html: venv
	$(BIN)/python -m grading solutions-html $(ASSIGNMENT)

# Kept for habit: the notebooks alone do not run without helpers, so this is the bundle too.
release-zip: student-bundle

# Moodle's "Download all submissions" (the zip or its folders), or <student>_<file> uploads, in
# downloaded/$(ASSIGNMENT)/archive/. Adds to submitted/ and never deletes; FORCE=1 replaces files
# that differ; MAPPING=file.csv (participant_id,student_id) files students under their own ids.
collect: venv
	$(BIN)/python -m grading collect $(ASSIGNMENT) $(if $(filter 1,$(FORCE)),--force) $(if $(MAPPING),--mapping "$(MAPPING)")

# Student code runs only in the sandbox; UNSAFE_NO_SANDBOX=1 grades without one (trusted work only).
# Each test whose cached result no longer holds is graded; STUDENT=id grades that student again,
# TEST=grade_id that test for everyone (both: that test of that student). WORKERS=N grades N jobs
# at once (default: one per core); SCHEDULER=tls://HOST:PORT sends the jobs to the workers of a
# running Dask scheduler instead (README: "Grading on many machines").
autograde: venv
	UNSAFE_NO_SANDBOX=$(UNSAFE_NO_SANDBOX) WORKERS=$(WORKERS) SCHEDULER=$(SCHEDULER) \
		$(BIN)/python -m grading autograde $(ASSIGNMENT) $(foreach s,$(STUDENT),--student "$(s)") \
		$(foreach t,$(TEST),--test "$(t)")

# A course CA and a certificate for the Dask scheduler, the workers and make autograde (keys 0600,
# never committed); kept when the folder exists. The scheduler and workers refuse anyone without one.
dask-certs: venv
	$(BIN)/python -m grading.core.dask_security dask-certs

# Rewrites the feedback of every student whose grades, comments or autograded notebooks changed
# (manual grading in Formgrader included); FORCE=1 rewrites all.
feedback: venv
	$(BIN)/python -m grading feedback $(ASSIGNMENT) $(if $(filter 1,$(FORCE)),--force)

# Each student's feedback files in the folder Moodle's download gave their submission, named from
# downloaded/$(ASSIGNMENT)/participants.csv, for Moodle's "Upload multiple feedback files in a zip".
feedback-zip: venv
	$(BIN)/python -m grading feedback-zip $(ASSIGNMENT)

# grades.csv (nbgrader's columns and waiting_for_manual_grading), and grades-moodle.csv for
# Moodle's grading worksheet import (Identifier, Grade, Last modified (grade), Grading status).
# Says how many written answers are not graded yet: the totals are provisional until then.
grades: venv
	$(NBGRADER) export --to grades.csv --log-level=WARN
	@echo "wrote grades.csv"
	$(BIN)/python -m grading moodle-grades $(ASSIGNMENT)

# Item analysis of the class, from the gradebook and the cached results (grades nothing again).
report: venv
	$(BIN)/python -m grading report $(ASSIGNMENT)

# Pairs of students whose solution code is alike (copydetect's fingerprints): a reason to look, not a verdict.
similarity: venv
	$(BIN)/python -m grading similarity $(ASSIGNMENT)

# The grading benchmark grades a class of 100 four times (1 and 2 workers, a regrade, Dask): most of an hour
# on 2 cores. CLASS_SIZE=4 for a quick look; PARTS=floor,one (of floor,one,class,regrade,dask) for some parts.
CLASS_SIZE ?= 100
PARTS ?= floor,one,class,regrade,dask
benchmark: venv
	$(BIN)/python benchmarks/run.py
	$(BIN)/python benchmarks/train_cnn.py
	$(BIN)/python benchmarks/grading.py --class-size $(CLASS_SIZE) --parts $(PARTS)

clean:
	rm -rf .pytest_cache dist
	find tests helpers grading benchmarks -name __pycache__ -prune -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV) *.egg-info
