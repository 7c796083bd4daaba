"""Test cells filled with the trusted results instead of being executed (nbgrader's Execute)."""

from pathlib import Path

from traitlets import Unicode

from grading.course.preprocessors.base import (
    GUIDE_MARK,
    CoursePreprocessor,
    cell_id,
    is_autograded_test,
    is_grading_guide,
    is_written_answer,
    nbgrader_meta,
    set_course_mark,
)
from grading.core.results import Kind, Phase, TestResult
from grading.course.text_safety import replace_unstorable

#: The error name a failed test cell shows, by the phase it failed in.
ERROR_NAMES = {Phase.VISIBLE: "VisibleCheckFailed", Phase.HIDDEN: "HiddenTestFailed",
               Phase.SETUP: "SolutionCellsFailed"}


def result_text(result):
    """What a test cell shows for one trusted result (also in feedback).

    ``result`` is a :class:`grading.core.results.TestResult` or its JSON form. A failure whose root
    cause is a solution cell that did not run to its end (``cause``, see
    :func:`grading.core.engine.root_cause`) starts with that cause; what the check saw follows.
    """
    result = result if isinstance(result, TestResult) else TestResult.from_dict(result)
    if result.passed:
        return "✓ Passed: every check of this cell passed, the visible ones and the hidden tests."
    message = result.message
    if result.phase is Phase.VISIBLE:
        head = f"A visible check failed ({result.check})" if result.check else "A visible check failed"
    elif result.phase is Phase.SETUP:
        return f"Your solution cells did not finish running, so no test could call your code: {message}"
    else:
        head = "A hidden test failed"
    if result.kind is Kind.TIMEOUT:
        message = f"your code did not answer in time: {message}"
    elif result.kind is Kind.CRASHED:
        message = f"your code's process died: {message}"
    return f"{result.cause}\n\n{head}: {message}" if result.cause else f"{head}: {message}"


def trusted_outputs(result):
    """The cell outputs that make nbgrader score a test cell as the trusted side decided."""
    import nbformat

    result = result if isinstance(result, TestResult) else TestResult.from_dict(result)
    text = replace_unstorable(result_text(result))  # it may quote what the student's code produced
    if result.passed:
        return [nbformat.v4.new_output("stream", name="stdout", text=text + "\n")]
    name = ERROR_NAMES.get(result.phase, ERROR_NAMES[Phase.HIDDEN])
    return [nbformat.v4.new_output("error", ename=name, evalue=text, traceback=[text])]


class TrustedResults(CoursePreprocessor):
    """Fill every autograded test cell with its trusted result (instead of executing the notebook).

    The outcome of each test cell is what the trusted tests decided in
    :func:`grading.core.engine.grade_notebook` (cached per submission by ``python -m grading``): a
    short "passed" line, or an error naming the visible check that failed, or saying that a hidden
    test failed, and why. nbgrader then scores the cells from those outputs as usual (an error is
    0, anything else full points) and writes the gradebook.
    """

    course_root = Unicode("", help="Course folder (with source/ and submitted/).").tag(config=True)

    def preprocess(self, nb, resources):
        from grading.core import jobs

        info = resources["nbgrader"]
        result = jobs.result_for(Path(self.course_root), info["assignment"], info["student"], info["notebook"],
                                 sandboxed=not jobs.unsafe_requested(), log=self.log)
        tests = result["tests"]
        for cell in nb.cells:
            if is_autograded_test(cell):
                outcome = tests.get(nbgrader_meta(cell).get("grade_id"))
                if outcome is None:  # cannot happen: the engine checks that every cell has a test
                    outcome = TestResult.failure(Kind.ERROR, "this cell has no trusted test; tell your instructor")
                cell.outputs = trusted_outputs(outcome)
        nb.cells = with_grading_guides(nb.cells, Path(self.course_root) / "source" / info["assignment"]
                                       / f"{info['notebook']}.ipynb")
        return nb, resources


def with_grading_guides(cells, source_path):
    """``cells`` with the source's model answer and grading guide after each written answer.

    Formgrader shows the autograded notebook: the grader then reads the guide right below the
    student's answer. The cells carry ``metadata.course.grading_guide`` and no nbgrader metadata
    (nbgrader ignores them); :class:`~grading.course.preprocessors.MarkManualGrading` removes
    them from the feedback.
    """
    import nbformat

    guides = {}
    for cell in nbformat.read(str(source_path), as_version=4).cells:
        if is_written_answer(cell):
            guides[nbgrader_meta(cell).get("grade_id")] = cell.source
    out = []
    for cell in cells:
        if is_grading_guide(cell):
            continue  # a guide from an earlier run, or one a student planted: rebuilt here
        out.append(cell)
        gid = nbgrader_meta(cell).get("grade_id")
        if cell.cell_type == "markdown" and gid in guides:
            guide = nbformat.v4.new_markdown_cell(
                "<div style=\"border-left: 4px solid #c60; padding-left: 1em\">\n\n"
                f"**For the grader only** (not in the student's feedback): the model answer and grading guide of "
                f"`{gid}`.\n\n{guides[gid]}\n\n</div>")
            set_course_mark(guide, GUIDE_MARK, True)
            guide.id = cell_id("grading-guide", gid)  # not nbformat's random one: same notebook every run
            out.append(guide)
    return out
