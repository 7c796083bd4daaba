"""The README's instructor steps, verbatim, in a fresh clone: "Moodle in and out".

The command blocks of the section are read out of README.md and run in order, each line as a
shell command, in a ``git clone`` of this repository (its committed state) with a Moodle download
of two students in ``downloaded/ex04/archive/``: Grace Hopper (participant 4711) hands in 01 and
02 with the instructor's answers, Alan Turing (42) a zip holding 01 as released. Between the
blocks a written answer is graded through nbgrader's gradebook API the way Formgrader's page
does it (step 3 of the section). Three rounds:

1. the section as written: collect, autograde, grade Grace's answer in 01, feedback, grades, zip;
2. the rest of the grading: Grace's answer in 02 graded and 01's comment edited, ``make autograde``
   run again (it must keep all of it), then feedback, grades and zip again;
3. a late upload: a new download in which Grace changed 02, ``make collect FORCE=1`` (as the
   section says for files that changed) and ``make autograde``: 02 waits for grading again, 01
   keeps its grade.

The clone uses this checkout's ``.venv`` through a symbolic link (a venv of its own would cost
minutes). Its ``requirements.txt``, ``pyproject.toml`` and ``Makefile`` are dated before the venv's
stamp, so that ``make`` does not install into it; ``make -n venv`` is checked to do nothing. The
clone's own ``grading`` and ``helpers`` run (``python -m`` and nbgrader_config.py put the clone
first on the path; checked), not this checkout's.
"""

import csv
import io
import os
import re
import subprocess
import zipfile

import pytest
from bs4 import BeautifulSoup
from nbgrader.api import Gradebook

from nbtools import ASSIGNMENT, ROOT
from test_collect import moodle_importer_participant, moodle_worksheet_rows
from test_grading_cases import instructor_answers, submission

pytestmark = pytest.mark.slow

DOWNLOAD = "ex04-Download all submissions.zip"
GRACE, ALAN = "Grace Hopper_4711_assignsubmission_file_", "Alan Turing_42_assignsubmission_file_"
ALARMS = ("Removing existing", "Skipping existing", "WARNING", "ERROR", "Traceback", "Kernel is running over TCP")


def readme_section(text, heading):
    """The text of a README section, from its heading to the next heading of its level or above."""
    level = heading.split(" ")[0]
    start = text.index(heading + "\n")
    end = re.search(rf"^#{{1,{len(level)}}} ", text[start + len(heading):], re.M)
    return text[start:start + len(heading) + (end.start() if end else len(text))]


def command_blocks(section):
    """The commands of each fenced ``sh`` block of a section, in order."""
    blocks = re.findall(r"^[ \t]*```sh\n(.*?)^[ \t]*```", section, re.M | re.S)
    return [[line.strip() for line in block.splitlines() if line.strip() and not line.strip().startswith("#")]
            for block in blocks]


def table_commands(section):
    """The commands (code spans starting with ``make``) of a Markdown table's command column."""
    commands = []
    for row in section.splitlines():
        cells = [cell.strip() for cell in row.strip().strip("|").split("|")]
        if row.startswith("|") and len(cells) >= 3:
            commands += [c for c in re.findall(r"`([^`]+)`", cells[1]) if c.startswith("make ")]
    return commands


def moodle_download(path, answers_02):
    """Moodle's "Download all submissions" zip, as test_collect.py builds it."""
    work = path.parent / "work"
    work.mkdir(exist_ok=True)
    grace_01 = submission("01_convolutions", instructor_answers("01_convolutions"), work / "01_convolutions.ipynb")
    grace_02 = submission("02_sobel_laplace", answers_02, work / "02_sobel_laplace.ipynb")
    alan_01 = submission("01_convolutions", {}, work / "alan_01.ipynb")
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w") as handle:
        handle.write(alan_01, "ex04/01_convolutions.ipynb")
    with zipfile.ZipFile(path, "w") as handle:
        handle.write(grace_01, f"{GRACE}/01_convolutions.ipynb")
        handle.write(grace_02, f"{GRACE}/02_sobel_laplace.ipynb")
        handle.writestr(f"{ALAN}/handin.zip", inner.getvalue())


def grade_as_formgrader(clone, notebook, grade_id, student, score, comment):
    """What Formgrader's page stores for a score and a comment typed in (its API handlers)."""
    with Gradebook(f"sqlite:///{clone / 'gradebook.db'}") as gradebook:
        grade = gradebook.find_grade(grade_id, notebook, ASSIGNMENT, student)
        grade.manual_score, grade.extra_credit = score, None
        grade.needs_manual_grade = grade.manual_score is None and grade.auto_score is None
        gradebook.find_comment(grade_id, notebook, ASSIGNMENT, student).manual_comment = comment
        gradebook.db.commit()


def grading_state(clone, notebook, grade_id, student):
    with Gradebook(f"sqlite:///{clone / 'gradebook.db'}") as gradebook:
        grade = gradebook.find_grade(grade_id, notebook, ASSIGNMENT, student)
        comment = gradebook.find_comment(grade_id, notebook, ASSIGNMENT, student)
        return grade.manual_score, grade.needs_manual_grade, comment.manual_comment


class Shell:
    """Runs the README's commands in the clone, as an instructor's shell would, and keeps the output."""

    def __init__(self, clone):
        self.clone, self.log = clone, []
        self.env = {k: v for k, v in os.environ.items()
                    if k not in ("PYTHONPATH", "VIRTUAL_ENV", "MAKEFLAGS", "MFLAGS")}

    def __call__(self, command):
        done = subprocess.run(["bash", "-c", command], cwd=self.clone, env=self.env, capture_output=True, text=True,
                              timeout=900)
        output = done.stdout + done.stderr
        self.log.append((command, output))
        assert done.returncode == 0, f"{command} failed ({done.returncode}):\n{output[-4000:]}"
        return output


def page(clone, student, notebook):
    return BeautifulSoup((clone / "feedback" / student / ASSIGNMENT / f"{notebook}.html").read_text(), "html.parser")


@pytest.fixture(scope="module")
def readme():
    text = (ROOT / "README.md").read_text()
    section = readme_section(text, "### Moodle in and out")
    return {"blocks": command_blocks(section), "table": table_commands(readme_section(text, "## For instructors"))}


@pytest.fixture(scope="module")
def rounds(readme, tmp_path_factory):
    base = tmp_path_factory.mktemp("instructor")
    clone = base / "course"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
    venv = ROOT / ".venv"
    stamp = venv / ".installed"
    if not stamp.exists():
        pytest.fail(f"{stamp} is missing: run make venv in {ROOT} first")
    (clone / ".venv").symlink_to(venv, target_is_directory=True)
    before_stamp = stamp.stat().st_mtime - 60
    for name in ("requirements.txt", "pyproject.toml", "Makefile"):
        os.utime(clone / name, (before_stamp, before_stamp))
    shell = Shell(clone)
    dry_run = shell("make -n venv")
    assert "pip" not in dry_run and "python3 -m venv" not in dry_run, f"make would set up the venv again:\n{dry_run}"
    where = shell(".venv/bin/python -c 'import grading, helpers; print(grading.__file__); print(helpers.__file__)'")
    assert all(line.startswith(str(clone)) for line in where.split()), where

    archive = clone / "downloaded" / ASSIGNMENT / "archive"
    archive.mkdir(parents=True)
    answers_02 = instructor_answers("02_sobel_laplace")
    moodle_download(archive / DOWNLOAD, answers_02)
    blocks = readme["blocks"]
    grade_block = next(i for i, block in enumerate(blocks) if "make autograde" in block)
    out = {"clone": clone, "shell": shell, "outputs": {}}

    def run_blocks(label, between):
        for i, block in enumerate(blocks):
            for command in block:
                out["outputs"][label, command] = shell(command)
            if i == grade_block:
                between()

    # Round 1: the section as written; Formgrader's step grades Grace's answer in 01.
    run_blocks(1, lambda: grade_as_formgrader(clone, "01_convolutions", "written_correlation_vs_convolution", "4711",
                                              1.5, "Right, but say why the flip does not matter for learning."))
    out["round 1"] = {
        "names": _names(clone), "state": _git_status(clone), "grace_02": str(page(clone, "4711", "02_sobel_laplace")),
        "grace_01": str(page(clone, "4711", "01_convolutions")), "alan_01": str(page(clone, "42", "01_convolutions")),
        "moodle": (clone / "grades-moodle.csv").read_text(), "zip": _zip_members(clone / "feedback-moodle.zip")}

    # Round 2: the rest of the manual grading, and make autograde once more before the feedback.
    def grade_the_rest():
        grade_as_formgrader(clone, "02_sobel_laplace", "written_what_the_filters_do", "4711", 2.0, "Clear.")
        grade_as_formgrader(clone, "01_convolutions", "written_correlation_vs_convolution", "4711", 1.5,
                            "Right; the flip is learnt along with the weights.")
        out["autograde again"] = shell("make autograde")

    grade_the_rest()
    for block in blocks[grade_block + 1:]:
        for command in block:
            out["outputs"][2, command] = shell(command)
    out["round 2"] = {"grace_01": str(page(clone, "4711", "01_convolutions")),
                      "grace_02": str(page(clone, "4711", "02_sobel_laplace")),
                      "moodle": (clone / "grades-moodle.csv").read_text(),
                      "01": grading_state(clone, "01_convolutions", "written_correlation_vs_convolution", "4711"),
                      "02": grading_state(clone, "02_sobel_laplace", "written_what_the_filters_do", "4711")}

    # Round 3: Grace uploads 02 again, changed; a new download replaces the old one.
    alan_before = (clone / "autograded" / "42" / ASSIGNMENT / "01_convolutions.ipynb").stat().st_mtime_ns
    (archive / DOWNLOAD).unlink()
    changed = dict(answers_02,
                   written_what_the_filters_do=answers_02["written_what_the_filters_do"] + "\n\nOne more thought.")
    moodle_download(archive / DOWNLOAD, changed)
    out["late collect"] = shell("make collect FORCE=1")
    out["late autograde"] = shell("make autograde")
    out["round 3"] = {"01": grading_state(clone, "01_convolutions", "written_correlation_vs_convolution", "4711"),
                      "02": grading_state(clone, "02_sobel_laplace", "written_what_the_filters_do", "4711"),
                      "alan untouched": alan_before == (clone / "autograded" / "42" / ASSIGNMENT
                                                        / "01_convolutions.ipynb").stat().st_mtime_ns}
    return out


def _names(clone):
    with Gradebook(f"sqlite:///{clone / 'gradebook.db'}") as gradebook:
        return {s.id: (s.first_name, s.last_name) for s in gradebook.students}


def _git_status(clone):
    return subprocess.run(["git", "status", "--porcelain", "--", "release", "notebooks", "source"], cwd=clone,
                          capture_output=True, text=True, check=True).stdout


def _zip_members(path):
    with zipfile.ZipFile(path) as handle:
        return sorted(handle.namelist())


def test_the_section_s_commands_are_the_table_s(readme):
    # The instructor table and "Moodle in and out" name the same steps, in the same order.
    run = [command for block in readme["blocks"] for command in block]
    assert run == ["make collect", "make autograde", "make feedback", "make grades", "make feedback-zip"]
    table = readme["table"]
    # make report and make similarity read what grading wrote: no step of the round trip.
    grading_steps = [c for c in table[table.index("make collect"):]
                     if c not in ("make instructor", "make report", "make similarity")]
    assert grading_steps == run


def test_collect_says_per_student_what_it_filed(rounds):
    lines = rounds["outputs"][1, "make collect"].splitlines()
    assert ("4711 (Grace Hopper) -> submitted/4711/ex04/: 01_convolutions.ipynb (added), "
            "02_sobel_laplace.ipynb (added)") in lines
    assert "42 (Alan Turing) -> submitted/42/ex04/: 01_convolutions.ipynb (added, unpacked from handin.zip)" in lines


def test_autograde_works_on_a_fresh_clone_quietly_and_leaves_release_alone(rounds):
    output = rounds["outputs"][1, "make autograde"]
    assert "recorded the graded cells of ex04" in output
    assert not [alarm for alarm in ALARMS if alarm in output], output[-3000:]
    assert rounds["round 1"]["state"] == "", "release/, notebooks/ and source/ are as committed"
    assert "next: 2 written answer(s) in 1 submission(s) wait for manual grading" in output


def test_moodle_names_reach_the_gradebook(rounds):
    assert rounds["round 1"]["names"] == {"4711": ("Grace", "Hopper"), "42": ("Alan", "Turing")}


def test_feedback_names_tasks_and_says_what_is_graded(rounds):
    grace_01, grace_02 = (BeautifulSoup(rounds["round 1"][k], "html.parser") for k in ("grace_01", "grace_02"))
    contents = [li.get_text(" ", strip=True) for li in grace_01.select("#toc li")]
    assert contents[0].startswith("4.1 · Task 1 (1 point): the output-size formula : "
                                  "tests test_output_size (Score: 1.0 / 1.0)")
    assert not [line for line in contents if "Test cell" in line]
    assert "Right, but say why the flip does not matter" in grace_01.get_text()
    assert "waiting for manual grading" not in grace_01.get_text()
    assert "waiting for manual grading" in grace_02.get_text()
    alan = BeautifulSoup(rounds["round 1"]["alan_01"], "html.parser").get_text(" ", strip=True)
    assert "No answer: this cell is still as it was handed out" in alan and "No response." not in alan


def test_grades_are_marked_provisional_until_every_answer_is_graded(rounds):
    output = rounds["outputs"][1, "make grades"]
    assert "PROVISIONAL: 1 written answer(s) in 1 submission(s) are not graded yet" in output
    first = list(csv.DictReader(io.StringIO(rounds["round 1"]["moodle"])))
    assert {row["Identifier"]: row["Grading status"] for row in first} == {
        "Participant 42": "final", "Participant 4711": "PROVISIONAL: 1 written answer not graded yet"}
    assert [(pid, grade) for pid, grade, _ in moodle_worksheet_rows(rounds["round 2"]["moodle"])] == [
        ("42", 0.0), ("4711", 8 + 1.5 + 7 + 2.0)]
    assert "every written answer is graded: the totals are final" in rounds["outputs"][2, "make grades"]


def test_the_feedback_zip_has_the_folders_of_the_moodle_download(rounds):
    members = rounds["round 1"]["zip"]
    assert members == [f"{ALAN}/01_convolutions.html", f"{GRACE}/01_convolutions.html",
                       f"{GRACE}/02_sobel_laplace.html"]
    assert {moodle_importer_participant(m) for m in members} == {"4711", "42"}
    assert "3 files for 2 students" in rounds["outputs"][1, "make feedback-zip"]


def test_feedback_is_rewritten_after_manual_grading(rounds):
    # make feedback skipped every student whose feedback existed: the page kept saying "waiting".
    assert "wrote 3 file(s) for 2 student(s)" in rounds["outputs"][1, "make feedback"]
    assert ("wrote 2 file(s) for 1 student(s) in feedback/; 1 student(s) unchanged"
            in rounds["outputs"][2, "make feedback"])
    grace_01, grace_02 = (BeautifulSoup(rounds["round 2"][k], "html.parser").get_text()
                          for k in ("grace_01", "grace_02"))
    assert "the flip is learnt along with the weights" in grace_01 and "Clear." in grace_02
    assert "waiting for manual grading" not in grace_02


def test_autograde_again_keeps_manual_grades_and_warns_of_nothing(rounds):
    again = rounds["autograde again"]
    assert "nothing changed since nbgrader last recorded them" in again
    assert not [alarm for alarm in ALARMS if alarm in again], again[-3000:]
    assert rounds["round 2"]["01"] == (1.5, False, "Right; the flip is learnt along with the weights.")
    assert rounds["round 2"]["02"] == (2.0, False, "Clear.")


def test_a_late_upload_is_recorded_and_the_rest_of_the_grading_kept(rounds):
    assert "02_sobel_laplace.ipynb (replaced)" in rounds["late collect"]
    late = rounds["late autograde"]
    assert "recording grades (nbgrader autograde): 4711\n" in late and "(1 of 2 student(s))" in late, late[-3000:]
    assert not [alarm for alarm in ALARMS if alarm in late], late[-3000:]
    assert rounds["round 3"]["01"] == (1.5, False, "Right; the flip is learnt along with the weights.")
    manual, waiting, comment = rounds["round 3"]["02"]
    assert waiting is True and (manual, comment) == (2.0, "Clear."), \
        "a changed answer is graded again, the old grade shown"
    assert rounds["round 3"]["alan untouched"]


def test_no_step_warns_of_anything(rounds):
    alarming = [(command, alarm) for command, output in rounds["shell"].log for alarm in ALARMS if alarm in output]
    assert not alarming, alarming
