"""grading/course/recording.py: what nbgrader records, and when (the gradebook's side of make autograde).

The whole cycle (grading, manual grades that survive a second run, feedback rewritten after
manual grading) runs in tests/test_readme_instructor.py, from the README's own commands.
"""

import csv
import json
import os
import shutil
import time

import pytest
from nbgrader.api import Gradebook

from grading.course import recording
from grading.course.autograde import venv_on_path
from nbtools import ASSIGNMENT, RELEASE, make_course


@pytest.fixture
def course(tmp_path):
    venv_on_path()  # nbgrader runs alembic to make a gradebook
    root = make_course(tmp_path / "course")
    shutil.copytree(RELEASE, root / "release" / ASSIGNMENT)
    return root


def db_url(root):
    return f"sqlite:///{root / 'gradebook.db'}"


def snapshot(folder):
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.slow
def test_a_fresh_clone_s_gradebook_learns_the_assignment_without_touching_release(course, capsys):
    # make autograde stopped on a fresh clone: the gradebook knew no assignment until make assignment
    # (75 s, regenerating release/ and notebooks/) had run.
    release = snapshot(course / "release")
    assert recording.register_assignment(course, ASSIGNMENT, db_url(course)) is True
    with Gradebook(db_url(course)) as gradebook:
        notebooks = {nb.name: len(nb.grade_cells) for nb in gradebook.find_assignment(ASSIGNMENT).notebooks}
    assert notebooks == {p.stem: notebooks[p.stem] for p in (course / "release" / ASSIGNMENT).glob("*.ipynb")}
    assert all(notebooks.values())
    assert snapshot(course / "release") == release and not (course / "notebooks").exists()
    out = capsys.readouterr().out
    assert "recorded the graded cells of ex04" in out and "NOTE" not in out
    assert recording.register_assignment(course, ASSIGNMENT, db_url(course)) is False, "only once"


@pytest.mark.slow
def test_a_release_that_source_no_longer_generates_is_named(course, capsys):
    stale = course / "release" / ASSIGNMENT / "02_sobel_laplace.ipynb"
    stale.write_text(stale.read_text().replace("Sobel", "Sobel (old)", 1))
    recording.register_assignment(course, ASSIGNMENT, db_url(course))
    notes = [line for line in capsys.readouterr().out.splitlines() if "NOTE" in line]
    assert len(notes) == 1 and "release/ex04/02_sobel_laplace.ipynb" in notes[0] and "make assignment" in notes[0]


@pytest.mark.slow
def test_moodle_names_reach_the_gradebook_and_names_set_there_stay(course):
    # Formgrader listed every Moodle student as "None, None".
    participants = course / "downloaded" / ASSIGNMENT / "participants.csv"
    participants.parent.mkdir(parents=True)
    with open(participants, "w", newline="") as stream:
        csv.writer(stream).writerows([["participant_id", "student_id", "full_name"],
                                      ["4711", "4711", "Grace Brewster Hopper"],
                                      ["42", "aturing", "Alan Turing"], ["7", "7", "Plato"]])
    with Gradebook(db_url(course)) as gradebook:
        gradebook.add_student("aturing", first_name="Alan M.", last_name="Turing")  # typed in Formgrader
    assert recording.names_from_moodle(course, ASSIGNMENT, db_url(course), ["4711", "aturing", "7", "walkin"]) == 2
    with Gradebook(db_url(course)) as gradebook:
        names = {s.id: (s.first_name, s.last_name) for s in gradebook.students}
    assert names == {"4711": ("Grace Brewster", "Hopper"), "aturing": ("Alan M.", "Turing"), "7": (None, "Plato")}


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:Object of type")  # SQLAlchemy, on nbgrader's add_submission
def test_only_students_whose_results_are_newer_than_nbgrader_s_record_are_recorded(course):
    recording.register_assignment(course, ASSIGNMENT, db_url(course))
    jobs = [(student, "01_convolutions") for student in ("ann", "bob", "cem", "dan")]
    for student, notebook in jobs:  # records whose verdicts last changed now, before nbgrader recorded them
        cache = course / ".grading" / ASSIGNMENT / student / f"{notebook}.json"
        cache.parent.mkdir(parents=True)
        cache.write_text(json.dumps({"keys": {}, "result": {}, "changed": time.time_ns()}))
    time.sleep(0.01)
    with Gradebook(db_url(course)) as gradebook:
        for student in ("ann", "bob", "cem", "dan"):
            gradebook.add_student(student)
            gradebook.add_submission(ASSIGNMENT, student)
            folder = course / "autograded" / student / ASSIGNMENT
            folder.mkdir(parents=True)
            (folder / "01_convolutions.ipynb").write_text("{}")
    (course / "autograded" / "cem" / ASSIGNMENT / "02_sobel_laplace.ipynb").write_text("{}")  # no longer handed in
    graded_again = course / ".grading" / ASSIGNMENT / "bob" / "01_convolutions.json"
    graded_again.write_text(json.dumps({"keys": {}, "result": {}, "changed": time.time_ns()}))  # judged differently
    timed_again = course / ".grading" / ASSIGNMENT / "ann" / "01_convolutions.json"
    os.utime(timed_again)  # graded again, the same verdicts: nothing to record
    (course / ".grading" / ASSIGNMENT / "dan" / "01_convolutions.json").unlink()  # its grading failed
    students = ["ann", "bob", "cem", "dan", "eve"]  # eve: not recorded at all yet
    to_record = recording.students_to_record(course, ASSIGNMENT, students, jobs, db_url(course))
    assert to_record == ["bob", "cem", "dan", "eve"]
