"""Every crafted submission in tests/cases/, graded by the engine: the exact score of every cell.

This is the grading path of ``make autograde`` without nbgrader around it: the student's
solution cells run in the sandbox, the trusted tests of grading/ex04 judge them from outside.
The full cycle through nbgrader is tests/test_roundtrip.py.
"""

import pytest

from nbtools import ASSIGNMENT, RELEASE, SOURCE, autograded_test_cells, cases, nbgrader_meta, notebook_names, read, \
    solution_cells, SOLUTION_DELIMITERS

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


def _check_case(name, case_name, tmp_path):
    from grading.engine import grade_notebook

    case = cases(name)[case_name]
    path = submission(name, case_answers(name, case), tmp_path / f"{name}.ipynb")
    result = grade_notebook(SOURCE / f"{name}.ipynb", path, name)
    got = {gid: t["score"] for gid, t in result["tests"].items()}
    expected = expected_scores(name, case)
    why = {gid: t["message"][:200] for gid, t in result["tests"].items() if got[gid] != expected[gid]}
    assert got == expected, f"{case['about']}\n{why}"


def _check_instructor_and_stubs(name, tmp_path):
    from grading.engine import grade_notebook

    full = grade_notebook(SOURCE / f"{name}.ipynb", submission(name, instructor_answers(name), tmp_path / "a.ipynb"))
    assert all(t["passed"] for t in full["tests"].values()), {g: t["message"] for g, t in full["tests"].items()}
    stub = grade_notebook(SOURCE / f"{name}.ipynb", RELEASE / f"{name}.ipynb")
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

    from grading.engine import grade_notebook

    name = "01_convolutions"
    shown = nbformat.convert(read(RELEASE / f"{name}.ipynb"), 3)  # the stubs, as Formgrader would show them
    hidden_copy = json.loads(nbformat.writes(read(submission(name, instructor_answers(name), tmp_path / "a.ipynb"))))
    document = json.loads(nbformat.writes(shown, version=3))
    document["cells"] = hidden_copy["cells"]
    path = tmp_path / "split.ipynb"
    path.write_text(json.dumps(document))
    result = grade_notebook(SOURCE / f"{name}.ipynb", path)
    assert not any(t["passed"] for t in result["tests"].values())


def test_conv2d_without_the_flip_is_told_so(tmp_path):
    from grading.engine import grade_notebook

    name = "01_convolutions"
    answers = instructor_answers(name)
    answers["conv2d"] = "def conv2d(X, K):\n    return corr2d(X, K)\n"
    result = grade_notebook(SOURCE / f"{name}.ipynb", submission(name, answers, tmp_path / "a.ipynb"))
    message = result["tests"]["test_conv2d"]["message"]
    assert "the kernel was not flipped" in message and "offset" not in message, message
