"""How fast grading is, against its floor: every figure of the grading targets, as ratios, in one run.

A benchmark, not a test: it prints figures and a table of targets, and asserts nothing. ``make
benchmark`` runs it with ``CLASS_SIZE`` (default 100) and ``PARTS`` (default all); for a quick look::

    python benchmarks/grading.py --class-size 4 --parts floor,one

The parts, each selectable with ``--parts``:

floor
    ``benchmarks/floor.py`` in a fresh Python: import PyTorch and train Task 5's recipe once,
    exactly as test_accuracy does. No honest grader of one submission can be faster.
one
    One honest full submission through ``python -m grading autograde`` (default workers) in a
    fresh course folder; its ratio to the floor, and where its seconds go (the phases that
    autograde prints and each set-up and test's seconds from the cached results).
class
    A class of ``--class-size`` students of the fixed :data:`MIX` with 1 and 2 workers: minutes,
    notebooks per minute, the speed-up.
regrade
    The class graded once with a copy of the assignment's package (``--assignments``), then one
    trusted test changed (a harmless statement in the hidden part of :data:`CHANGED_TEST`) and
    graded again: that time as a share of the full grading, and what was graded again.
dask
    The class through a Dask scheduler and 2 local workers started as the README's "Grading on
    many machines" says (TLS, the course's certificates), against the local pool of 2 workers.

The class mixes, in a fixed order: honest submissions (the instructor's solutions), partial
ones (a crafted case of each notebook), blank ones (the release as handed out), crashing ones
(os._exit in a solution) and hanging ones (an endless loop that ignores signals). Targets are
those of a 2-core machine; a class other than 100 is scaled linearly for the 8-minute target.
"""

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

import nbformat  # noqa: E402

from nbtools import (ASSIGNMENT, cases, free_port, make_course, nbgrader, nbgrader_meta,  # noqa: E402
                     notebook_names, read)
from test_grading_cases import instructor_answers  # noqa: E402

MIX = ["honest", "partial", "blank", "honest", "crash", "honest", "partial", "hang", "honest", "blank"]
PARTS = ("floor", "one", "class", "regrade", "dask")
#: Where a run keeps the grading package that all its courses grade with (``<scratch>/snapshot/grading``,
#: named ``grading`` as the engine expects): a copy taken at the start, so that a change in the working
#: tree during a run (the engine is part of every cache key) changes nothing.
SNAPSHOT = Path("snapshot") / "grading"
#: The trusted test that the regrade part changes: (module of grading/<assignment>/, test function).
CHANGED_TEST = ("nb04_receptive_field.py", "input_region")
#: Targets of the issue, for a 2-core machine.
RATIO_TO_FLOOR, CLASS_MINUTES, CLASS_OF, SPEED_UP, REGRADE_PERCENT, DASK_SLOWER = 1.6, 8.0, 100, 1.85, 5.0, 0.15


# ---------------------------------------------------------------------------------------- courses

def _answers(kind, name):
    if kind == "honest":
        return instructor_answers(name)
    if kind == "partial":
        found = cases(name)
        partial = sorted(n for n in found if n.startswith("partial")) or sorted(found)
        return found[partial[0]]["cells"]
    first = next(iter(instructor_answers(name)))
    if kind == "crash":
        return {**instructor_answers(name), first: "import os\nos._exit(1)\n"}
    if kind == "hang":
        return {**instructor_answers(name), first: "import signal\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
                                                   "while True:\n    pass\n"}
    return {}


def course_with(students, folder):
    """A scratch course with one submission of every notebook per student, of the kind ``students`` names.

    Its ``grading`` is the run's snapshot (:data:`SNAPSHOT`), in the folder that holds ``folder``.
    """
    root = make_course(folder)
    (root / "grading").unlink()
    (root / "grading").symlink_to(folder.parent / SNAPSHOT, target_is_directory=True)
    nbgrader("generate_assignment", ASSIGNMENT, "--force", cwd=root)
    for student, kind in students.items():
        for name in notebook_names():
            nb = read(root / "release" / ASSIGNMENT / f"{name}.ipynb")
            answers = _answers(kind, name)
            for cell in nb.cells:
                gid = nbgrader_meta(cell).get("grade_id")
                if nbgrader_meta(cell).get("solution") and gid in answers:
                    cell.source = answers[gid]
            target = root / "submitted" / student / ASSIGNMENT / f"{name}.ipynb"
            target.parent.mkdir(parents=True, exist_ok=True)
            nbformat.write(nb, str(target))
    return root


def class_students(size):
    """``size`` students of the fixed mix, named by number and kind."""
    return {f"s{i:03d}-{MIX[i % len(MIX)]}": MIX[i % len(MIX)] for i in range(size)}


def ungraded_class(scratch, size):
    """A course with the class of ``size`` that nothing has graded yet, made once per run of this script."""
    folder = scratch / f"class-of-{size}"
    if not folder.exists():
        course_with(class_students(size), folder)
    return folder


def fresh_copy(course, folder):
    """A copy of an ungraded course, so that every timed run starts from the same state.

    That is: no results, no autograded notebooks, a gradebook without submissions (nbgrader's first
    recording of a student is the slower one).
    """
    shutil.copytree(course, folder, symlinks=True)
    return folder


# ---------------------------------------------------------------------------------------- running

class AutogradeFailed(Exception):
    """autograde exited with an error: the part that ran it has no figure."""


def autograde(root, log, workers=None, scheduler=None, assignments=None):
    """Run ``python -m grading autograde`` in ``root``; returns (wall seconds, its output).

    The output goes to ``log`` (a class takes minutes: ``tail -f`` it).

    Raises
    ------
    AutogradeFailed
        When it exits with an error (a failed notebook counts: its time would not be a grading's).
    """
    command = [sys.executable, "-m", "grading"]
    command += ["--assignments", str(assignments)] if assignments else []
    command += ["autograde", ASSIGNMENT]
    command += ["--workers", str(workers)] if workers else []
    command += ["--scheduler", scheduler] if scheduler else []
    print(f"  running {' '.join(command[1:])}  (log: {log})", flush=True)
    start = time.perf_counter()
    with open(log, "w") as stream:
        run = subprocess.run(command, cwd=root, stdout=stream, stderr=subprocess.STDOUT, text=True, check=False)
    seconds = time.perf_counter() - start
    output = Path(log).read_text()
    if run.returncode:
        print(f"  autograde exited with {run.returncode}; its last lines:\n{output[-3000:]}")
        raise AutogradeFailed(f"autograde exited with {run.returncode} after {seconds:.0f} s (see {log})")
    return seconds, output


def _seconds(text):
    """Seconds of autograde's durations: '12 s' or '3 min 05 s'."""
    found = re.fullmatch(r"\s*(?:(\d+) min )?(\d+) s\s*", text)
    return int(found.group(1) or 0) * 60 + int(found.group(2)) if found else None


def stages(output, wall):
    """autograde's phases of ``wall`` from its summary line: grading, nbgrader's recording, and the rest.

    Where the recording overlaps the grading, the summary says how much of it came after the
    grading: only that part adds to the wall time, and the whole is shown beside it.
    """
    summary = next((line for line in output.splitlines() if line.startswith("summary:")), "")
    duration = r"((?:\d+ min )?\d+ s)"
    found = re.search(rf"graded now in {duration}, .*recorded them in {duration}"
                      rf"(?:, {duration} of it after the grading)?", summary)
    if not found:
        return {}
    grading, recording, after = (_seconds(text) if text else None for text in found.groups())
    if after is None:
        phases = {"grading (sandboxes and trusted tests)": grading, "nbgrader's recording": recording}
    else:
        phases = {"grading (sandboxes and trusted tests)": grading,
                  f"nbgrader's recording after the grading (of {recording} s)": after}
    return {**phases, "start-up, pre-flight, gradebook": max(0.0, wall - sum(phases.values()))}


def _stage_text(output, wall):
    return ", ".join(f"{phase} {seconds:.0f} s" for phase, seconds in stages(output, wall).items())


def lines_about_grading(output):
    """autograde's lines that say what it graded and what it took from earlier runs."""
    return [line.strip() for line in output.splitlines()
            if line.startswith(("grading:", "summary:")) or re.search(r"regrad|re-grad", line, re.IGNORECASE)]


def cached_entries(root):
    """{(student, notebook): what the cache stores} for every cached result of a course."""
    found = {}
    for path in sorted((root / ".grading" / ASSIGNMENT).glob("*/*.json")):
        found[(path.parent.name, path.stem)] = json.loads(path.read_text())
    return found


def _test_keys(entry):
    """{grade_id: cache key}: a key per test where the cache keeps one, else the notebook's key for each."""
    keys = entry.get("keys")
    return keys if isinstance(keys, dict) else {gid: entry.get("key") for gid in entry["result"]["tests"]}


def regraded(before, after):
    """How many notebooks and tests were graded again between two snapshots of the cache: (notebooks, tests, all tests).

    A test graded again has a new key or a new time (measured to the microsecond); one taken from
    the cache keeps the key and the time of the run that graded it.
    """
    notebooks = tests = total = 0
    for job, entry in after.items():
        old = before.get(job, {"result": {"tests": {}}})
        old_tests, old_keys, keys = old["result"]["tests"], _test_keys(old), _test_keys(entry)
        again = [gid for gid, test in entry["result"]["tests"].items()
                 if old_keys.get(gid) != keys.get(gid) or old_tests.get(gid, {}).get("seconds") != test.get("seconds")]
        total += len(entry["result"]["tests"])
        tests += len(again)
        notebooks += bool(again)
    return notebooks, tests, total


# ---------------------------------------------------------------------------------------- the parts

def floor_part(scratch):
    """Wall time of benchmarks/floor.py in a fresh Python, interpreter start and imports included."""
    print("floor: a fresh Python imports PyTorch and trains Task 5's recipe once (benchmarks/floor.py)", flush=True)
    start = time.perf_counter()
    run = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "floor.py")], capture_output=True, text=True,
                         check=True)
    seconds = time.perf_counter() - start
    phases = json.loads(run.stdout.strip().splitlines()[-1])
    print(f"  {seconds:.1f} s in all: imports {phases['imports']:.1f} s, the digits {phases['data']:.1f} s, training "
          f"{phases['training']:.1f} s (test accuracy {100 * phases['test_accuracy']:.1f} %), the rest start-up")
    return seconds


def per_notebook(root, student):
    """Seconds per notebook: set-ups (start, imports, the student's cells) and each test."""
    rows = {}
    for (name, notebook), entry in cached_entries(root).items():
        result = entry["result"]
        if name == student:
            setups = {f"set-up ({s['policy']})": s["seconds"] for s in result.get("setups", [])}
            rows[notebook] = {**setups, **{gid: t["seconds"] for gid, t in result["tests"].items()}}
    return rows


def one_part(scratch, floor):
    """One honest submission, default workers: wall time, the ratio to the floor, where the seconds go."""
    print("one honest full submission (6 notebooks), default workers, in a fresh course folder", flush=True)
    one = course_with({"honest": "honest"}, scratch / "one")
    seconds, output = autograde(one, scratch / "one.log")
    print(f"  {seconds:.1f} s in all (nbgrader's recording included)"
          + (f", {seconds / floor:.2f} x the floor of {floor:.1f} s" if floor else ""))
    print("  where the seconds go (phases of the wall time; set-ups and tests are busy time of one core each, "
          "and overlap on several workers):")
    for phase, taken in stages(output, seconds).items():
        print(f"    {phase:52s} {taken:6.1f} s  {100 * taken / seconds:4.0f} %")
    for name, parts in per_notebook(one, "honest").items():
        print(f"    {name:52s} {sum(parts.values()):6.1f} s  {100 * sum(parts.values()) / seconds:4.0f} %   "
              + ", ".join(f"{gid} {t:.1f}" for gid, t in parts.items()))
    if floor:
        print(f"    {'the floor (one training, fresh Python)':52s} {floor:6.1f} s  {100 * floor / seconds:4.0f} %")
    return seconds


def class_part(scratch, size, workers):
    """The class graded with each worker count; {workers: seconds}."""
    students = class_students(size)
    jobs = len(students) * len(notebook_names())
    print(f"class of {size} ({jobs} notebooks; mix {'/'.join(MIX)}), each run on a fresh copy of the course",
          flush=True)
    timings = {}
    for count in workers:
        klass = fresh_copy(ungraded_class(scratch, size), scratch / f"class-{count}")
        timings[count], output = autograde(klass, scratch / f"class-{count}.log", workers=count)
        print(f"  {count} worker(s): {timings[count] / 60:.1f} min, {jobs / timings[count] * 60:.0f} notebooks per "
              f"minute; {_stage_text(output, timings[count])}")
    return timings


def change_one_test(package):
    """Append a harmless statement to the hidden part of :data:`CHANGED_TEST` in a copied package."""
    module, function = CHANGED_TEST
    path = package / module
    lines = path.read_text().splitlines(keepends=True)
    start = next((i for i, line in enumerate(lines) if line.startswith(f"def {function}(")), None)
    hidden = next((i for i in range(start or 0, len(lines)) if lines[i].strip() == "with hidden():"), None)
    if start is None or hidden is None:
        raise SystemExit(f"benchmarks/grading.py: no 'with hidden():' in {function} of {path}: update CHANGED_TEST")
    indent = lines[hidden][:len(lines[hidden]) - len(lines[hidden].lstrip())] + "    "
    lines.insert(hidden + 1, f"{indent}_changed_for_the_benchmark = True  # a harmless change of this test\n")
    path.write_text("".join(lines))
    return f"{module}:{function}"


def regrade_part(scratch, size):
    """Grade the class fully, change one trusted test, grade again; returns (full seconds, regrade seconds)."""
    print(f"regrade: the class of {size} with a copy of the assignment package, then one trusted test changed",
          flush=True)
    klass = fresh_copy(ungraded_class(scratch, size), scratch / "regrade")
    assignments = scratch / "assignments"
    shutil.copytree(scratch / SNAPSHOT / ASSIGNMENT, assignments / ASSIGNMENT,
                    ignore=shutil.ignore_patterns("__pycache__"))
    full, _ = autograde(klass, scratch / "regrade-full.log", assignments=assignments)
    before = cached_entries(klass)
    changed = change_one_test(assignments / ASSIGNMENT)
    again, output = autograde(klass, scratch / "regrade-again.log", assignments=assignments)
    notebooks, tests, total = regraded(before, cached_entries(klass))
    print(f"  full grading {full:.0f} s; after changing {changed}: {again:.1f} s, {100 * again / full:.1f} % of it")
    print(f"  graded again (new keys or times in the cache): {tests} of {total} tests, in {notebooks} of "
          f"{len(before)} notebooks ({size} would be one test per student)")
    for line in lines_about_grading(output):
        print(f"  autograde: {line}")
    return full, again


def _environment():
    """This environment without anything that would configure Dask or put another folder on the path."""
    return {k: v for k, v in os.environ.items() if k != "PYTHONPATH" and not k.startswith(("DASK_", "MAKE"))}


def start_cluster(course, logs, workers=2):
    """A TLS scheduler and ``workers`` single-thread workers in ``course``, as the README starts them."""
    from distributed import Client

    from grading.core import dask_security

    (course / "etc").symlink_to(ROOT / "etc", target_is_directory=True)
    subprocess.run([sys.executable, "-m", "grading.core.dask_security", "dask-certs"], cwd=course, check=True,
                   capture_output=True)
    port, dask = free_port(), str(Path(sys.executable).parent / "dask")
    environment = {**_environment(), "DASK_CONFIG": "etc/dask"}
    commands = [[dask, "scheduler", "--protocol", "tls", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"]]
    commands += [[dask, "worker", f"tls://127.0.0.1:{port}", "--nthreads", "1", "--no-dashboard"]] * workers
    processes = []
    for number, command in enumerate(commands):
        worker_environment = {**environment, "PYTHONPATH": str(course)} if number else environment
        with open(logs / f"dask-{number}.log", "w") as log:
            processes.append(subprocess.Popen(command, cwd=course, env=worker_environment, start_new_session=True,
                                              stdout=log, stderr=subprocess.STDOUT))
    address = f"tls://127.0.0.1:{port}"
    try:
        with Client(address, security=dask_security.client_security(course / dask_security.FOLDER),
                    timeout="60s") as client:
            client.wait_for_workers(workers, timeout=120)
    except BaseException:
        stop_cluster(processes)
        raise
    return address, processes


def stop_cluster(processes):
    """Stop the scheduler and workers that :func:`start_cluster` started (their process groups)."""
    for process in processes:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
    for process in processes:
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def dask_part(scratch, size, local):
    """The class through Dask on 2 local workers; returns (Dask seconds, local 2-worker seconds)."""
    print(f"dask: the class of {size} through a TLS scheduler and 2 local workers", flush=True)
    if local is None:
        local, output = autograde(fresh_copy(ungraded_class(scratch, size), scratch / "dask-local"),
                                  scratch / "dask-local.log", workers=2)
        print(f"  local pool, 2 workers: {local:.0f} s; {_stage_text(output, local)}")
    klass = fresh_copy(ungraded_class(scratch, size), scratch / "dask")
    address, processes = start_cluster(klass, scratch)
    try:
        seconds, output = autograde(klass, scratch / "dask-cluster.log", scheduler=address)
    finally:
        stop_cluster(processes)
    print(f"  Dask, 2 workers: {seconds:.0f} s, {seconds / local:.2f} x the local pool's {local:.0f} s; "
          f"{_stage_text(output, seconds)}")
    return seconds, local


# ---------------------------------------------------------------------------------------- the table

def target_rows(figures, size):
    """(figure, measured, target, met) for every figure measured."""
    rows = []
    if "one" in figures and "floor" in figures:
        ratio = figures["one"] / figures["floor"]
        measured = f"{ratio:.2f} x ({figures['one']:.1f} s / {figures['floor']:.1f} s)"
        rows.append(("one full submission / floor", measured, f"<= {RATIO_TO_FLOOR}", ratio <= RATIO_TO_FLOOR))
    timings = figures.get("class", {})
    jobs = size * len(notebook_names())
    for count, seconds in sorted(timings.items()):
        measured = f"{seconds / 60:.1f} min, {jobs / seconds * 60:.0f} notebooks per minute"
        rows.append((f"class of {size}, {count} worker(s)", measured, "", None))
    if 2 in timings:
        minutes = timings[2] / 60 * CLASS_OF / size
        scaled = "" if size == CLASS_OF else f" (scaled from {size})"
        rows.append((f"class of {CLASS_OF}, 2 workers", f"{minutes:.1f} min{scaled}", f"<= {CLASS_MINUTES:g} min",
                     minutes <= CLASS_MINUTES))
    if 1 in timings and 2 in timings:
        rows.append(("speed-up, 2 workers over 1", f"{timings[1] / timings[2]:.2f} x", f">= {SPEED_UP}",
                     timings[1] / timings[2] >= SPEED_UP))
    if "regrade" in figures:
        full, again = figures["regrade"]
        rows.append(("regrade after one changed test", f"{100 * again / full:.1f} % ({again:.0f} s of {full:.0f} s)",
                     f"<= {REGRADE_PERCENT:g} %", 100 * again / full <= REGRADE_PERCENT))
    if "dask" in figures:
        cluster, local = figures["dask"]
        rows.append(("Dask, 2 local workers / local pool", f"{cluster / local:.2f} x ({cluster:.0f} s / {local:.0f} s)",
                     f"<= {1 + DASK_SLOWER:.2f} x", cluster / local <= 1 + DASK_SLOWER))
    return rows


def run_parts(parts, scratch, size, workers):
    """Run the chosen parts in order; returns (figures, {part: why it failed})."""
    figures, failed = {}, {}
    steps = {"floor": lambda: floor_part(scratch),
             "one": lambda: one_part(scratch, figures.get("floor")),
             "class": lambda: class_part(scratch, size, workers),
             "regrade": lambda: regrade_part(scratch, size),
             "dask": lambda: dask_part(scratch, size, figures.get("class", {}).get(2))}
    for part in PARTS:
        if part in parts:
            try:
                figures[part] = steps[part]()
            except (AutogradeFailed, subprocess.CalledProcessError) as error:
                failed[part] = str(error)
                print(f"  {part}: no figure, {error}", flush=True)
    return figures, failed


def print_table(rows):
    print("\n| figure | measured | target | met |\n|---|---|---|---|")
    for figure, measured, target, met in rows:
        print(f"| {figure} | {measured} | {target or '-'} | {'-' if met is None else 'yes' if met else 'NO'} |")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--class-size", type=int, default=int(os.environ.get("CLASS_SIZE") or CLASS_OF),
                        help=f"students in the class (default: CLASS_SIZE or {CLASS_OF})")
    parser.add_argument("--parts", default=",".join(PARTS), help=f"comma-separated, of {', '.join(PARTS)}")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2],
                        help="worker counts to grade the class with (the speed-up needs 1 and 2)")
    parser.add_argument("--scratch", type=Path, default=None,
                        help="keep the courses and logs in this new folder (default: a temporary one)")
    args = parser.parse_args(argv)
    parts = [part.strip() for part in args.parts.split(",") if part.strip()]
    unknown = sorted(set(parts) - set(PARTS))
    if unknown or args.class_size < 1:
        parser.error(f"unknown part(s) {', '.join(unknown)}: choose from {', '.join(PARTS)}" if unknown
                     else "--class-size must be at least 1")
    with tempfile.TemporaryDirectory() as temporary:
        scratch = args.scratch or Path(temporary)
        scratch.mkdir(parents=True, exist_ok=args.scratch is None)
        shutil.copytree(ROOT / "grading", scratch / SNAPSHOT, ignore=shutil.ignore_patterns("__pycache__"))
        print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores, load average "
              f"{', '.join(f'{x:.1f}' for x in os.getloadavg())} at the start; parts: {', '.join(parts)}", flush=True)
        figures, failed = run_parts(parts, scratch, args.class_size, args.workers)
        print_table(target_rows(figures, args.class_size)
                    + [(f"part {part}", f"FAILED: {why}", "", False) for part, why in failed.items()])
        print(f"load average at the end: {', '.join(f'{x:.1f}' for x in os.getloadavg())} (1, 5, 15 min)")


if __name__ == "__main__":
    main()
