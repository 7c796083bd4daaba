"""Every crafted submission in tests/cases/, graded by the engine: the exact score of every cell.

This is the grading path of ``make autograde`` without nbgrader around it: the student's
solution cells run in the sandbox, the trusted tests of grading/ex04 judge them from outside.
The full cycle through nbgrader is tests/test_roundtrip.py.
"""

import json
import re
import time

import pytest

from nbtools import ASSIGNMENT, CASES, RELEASE, SOURCE, autograded_test_cells, cases, nbgrader_meta, notebook_names, \
    read, solution_cells, SOLUTION_DELIMITERS

pytestmark = pytest.mark.slow


def instructor_answers(name):
    source = read(SOURCE / f"{name}.ipynb")
    return {gid: "\n".join(line for line in c.source.splitlines() if line.strip() not in SOLUTION_DELIMITERS)
            for gid, c in solution_cells(source).items()}


def submission(name, answers, path):
    """The release notebook with ``answers`` (grade_id -> source) typed into its solution cells."""
    import nbformat

    nb = read(RELEASE / f"{name}.ipynb")
    for cell in nb.cells:
        gid = nbgrader_meta(cell).get("grade_id")
        if nbgrader_meta(cell).get("solution") and gid in answers:
            cell.source = answers[gid]
    nbformat.write(nb, str(path))
    return path


def case_answers(name, case):
    if case["base"] == "instructor":
        answers = instructor_answers(name)
        return {gid: answers[gid] + ("\n\n" + case["cells"][gid] if gid in case["cells"] else "") for gid in answers}
    return dict(case["cells"])


def expected_scores(name, case):
    tests = autograded_test_cells(read(SOURCE / f"{name}.ipynb"))
    if case["scores"] == "full":
        return {gid: float(nbgrader_meta(c)["points"]) for gid, c in tests.items()}
    assert set(case["scores"]) == set(tests), f"a case must give a score for every test cell: {sorted(tests)}"
    return {gid: float(v) for gid, v in case["scores"].items()}


#: The time a solution cell gets in the cases that set one aside: small, since each costs it once.
CELL_SECONDS = 1.0


def faulty_cells_expected(name, case_name):
    """A case's ``# faulty: {grade_id: kind}`` line: the cells grading must set aside, and why."""
    text = (CASES / name / f"{case_name}.py").read_text(encoding="utf-8")
    found = re.search(r"^# faulty: (.*)$", text, re.MULTILINE)
    return json.loads(found.group(1)) if found else {}


def _check_case(name, case_name, tmp_path):
    from grading.core.engine import grade_notebook, notebook_plan
    from grading.core.jobs import faulty_cell_lines
    from grading.core.sandbox import Limits

    case = cases(name)[case_name]
    faulty = faulty_cells_expected(name, case_name)
    path = submission(name, case_answers(name, case), tmp_path / f"{name}.ipynb")
    started = time.monotonic()
    result = grade_notebook("ex04", SOURCE / f"{name}.ipynb", path, name,
                            limits=Limits(cell_seconds=CELL_SECONDS) if faulty else None)
    seconds = time.monotonic() - started
    got = {gid: t["score"] for gid, t in result["tests"].items()}
    expected = expected_scores(name, case)
    why = {gid: t["message"][:200] for gid, t in result["tests"].items() if got[gid] != expected[gid]}
    assert got == expected, f"{case['about']}\n{why}"
    assert {gid: f["kind"] for gid, f in result["faulty_cells"].items()} == faulty, result["faulty_cells"]
    if faulty:
        # Each faulty cell costs its time once, not once per test or policy; honest ones take milliseconds.
        assert sorted(gid for s in result["setups"] for gid in s["cells_set_aside"]) == sorted(faulty), \
            result["setups"]
        hanging = sum(kind == "timeout" for kind in faulty.values())
        assert seconds < hanging * CELL_SECONDS + 8, f"{seconds:.1f} s"
        assert sum(s["seconds"] for s in result["setups"]) < hanging * CELL_SECONDS + 4, result["setups"]
        lines = faulty_cell_lines("ada", name, result)
        assert [line.split(":")[0] for line in lines] == ["FAULTY CELL ada/" + name] * len(faulty), lines
        defines = notebook_plan(SOURCE / f"{name}.ipynb")["defines"]
        for gid in faulty:
            assert f" the {gid} cell " in lines[list(faulty).index(gid)], lines
            # The tests of what the cell was to define say which cell it was, and that the others were graded.
            own = [t for t in result["tests"].values() if t["score"] == 0 and defines[gid][0] in t["message"]]
            assert own and all(t["cause"].startswith(f"Your {gid} cell ") and "the other cells were graded"
                               in t["cause"] for t in own), [t.get("cause") for t in own]


def _check_instructor_and_stubs(name, tmp_path):
    from grading.core.engine import grade_notebook

    answered = submission(name, instructor_answers(name), tmp_path / "a.ipynb")
    full = grade_notebook("ex04", SOURCE / f"{name}.ipynb", answered)
    assert all(t["passed"] for t in full["tests"].values()), {g: t["message"] for g, t in full["tests"].items()}
    stub = grade_notebook("ex04", SOURCE / f"{name}.ipynb", RELEASE / f"{name}.ipynb")
    assert not any(t["passed"] for t in stub["tests"].values())
    # An untouched stub fails at the first visible check, and the message says which.
    assert all(t["phase"] == "visible" and "NotImplementedError" in t["message"] for t in stub["tests"].values())


def _cases_of(name):
    """A test class per notebook: parallel runs (pytest-xdist, --dist loadscope) spread the classes."""

    @pytest.mark.parametrize("case_name", sorted(cases(name)))
    def test_case_scores_exactly(self, case_name, tmp_path):
        _check_case(name, case_name, tmp_path)

    def test_instructor_solutions_pass_and_stubs_fail(self, tmp_path):
        _check_instructor_and_stubs(name, tmp_path)

    return type(f"TestNotebook{name[:2]}", (), {"__doc__": f"The crafted cases of {name}.",
                                                  "test_case_scores_exactly": test_case_scores_exactly,
                                                  "test_instructor_solutions_pass_and_stubs_fail":
                                                      test_instructor_solutions_pass_and_stubs_fail})


for _name in notebook_names():
    globals()[f"TestNotebook{_name[:2]}"] = _cases_of(_name)


def test_a_version_3_file_is_graded_as_nbgrader_shows_it(tmp_path):
    """nbformat 3 keeps cells in worksheets; extra top-level cells (unseen by nbgrader) are ignored."""
    import json

    import nbformat

    from grading.core.engine import grade_notebook

    name = "01_convolutions"
    shown = nbformat.convert(read(RELEASE / f"{name}.ipynb"), 3)  # the stubs, as Formgrader would show them
    hidden_copy = json.loads(nbformat.writes(read(submission(name, instructor_answers(name), tmp_path / "a.ipynb"))))
    document = json.loads(nbformat.writes(shown, version=3))
    document["cells"] = hidden_copy["cells"]
    path = tmp_path / "split.ipynb"
    path.write_text(json.dumps(document))
    result = grade_notebook("ex04", SOURCE / f"{name}.ipynb", path)
    assert not any(t["passed"] for t in result["tests"].values())


def test_conv2d_without_the_flip_is_told_so(tmp_path):
    from grading.core.engine import grade_notebook

    name = "01_convolutions"
    answers = instructor_answers(name)
    answers["conv2d"] = "def conv2d(X, K):\n    return corr2d(X, K)\n"
    result = grade_notebook("ex04", SOURCE / f"{name}.ipynb", submission(name, answers, tmp_path / "a.ipynb"))
    message = result["tests"]["test_conv2d"]["message"]
    assert "the kernel was not flipped" in message and "offset" not in message, message


def test_a_faulty_cell_is_named_in_the_progress_line_and_counted(tmp_path):
    """make autograde's log: the job's progress line and the run's count name student, notebook and cell."""
    import io
    import shutil

    from grading.core import jobs

    name, case_name = "01_convolutions", "threat_cell_exit_last"
    (tmp_path / "source" / ASSIGNMENT).mkdir(parents=True)
    shutil.copy(SOURCE / f"{name}.ipynb", tmp_path / "source" / ASSIGNMENT / f"{name}.ipynb")
    folder = tmp_path / "submitted" / "ada" / ASSIGNMENT
    folder.mkdir(parents=True)
    submission(name, case_answers(name, cases(name)[case_name]), folder / f"{name}.ipynb")
    log = io.StringIO()
    counts = jobs.run_all(tmp_path, ASSIGNMENT, [("ada", name)], workers=1, out=log)
    progress = [line for line in log.getvalue().splitlines() if "ada/01_convolutions:" in line]
    assert len(progress) == 1 and "6/8 points, faulty cell conv2d set aside" in progress[0], log.getvalue()
    assert counts["failed"] == 0 and len(counts["faulty_cells"]) == 1, counts
    assert counts["faulty_cells"][0].startswith("FAULTY CELL ada/01_convolutions: the conv2d cell ended the process "
                                                "(exit status 0, as os._exit(0) does)"), counts["faulty_cells"]
