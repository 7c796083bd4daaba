"""Every student id nbgrader can hold is graded: names with spaces, umlauts, apostrophes, other scripts.

:mod:`grading.core.student_ids` refuses only what escapes or confuses a path, a command line or
nbgrader. The slow test takes a class of notebook 01 through the whole chain the way the
instructor does (``python -m grading collect/autograde/feedback/moodle-grades/feedback-zip`` and
``nbgrader export``, what the Makefile runs): a Moodle download whose students are filed under
the ids of a mapping CSV ("Grace Hopper", "ödön-müller" written in NFD, "O'Brien", "李雷",
"Ελένη"), and folders put into ``submitted/`` by hand (one named in NFD, unsafe names, and a
pair that names one student twice). Every score is exact, the Moodle worksheet and the feedback
zip name each participant, and a second ``make autograde`` records one student while nbgrader
leaves the others, excluded by id, alone.
"""

import csv
import io
import os
import re
import subprocess
import sys
import unicodedata
import zipfile

import nbformat
import pytest
from bs4 import BeautifulSoup
from nbgrader.api import Gradebook
from nbgrader.coursedir import CourseDirectory
from traitlets.config import Application

from grading.course.collect import collect, moodle_folder
from grading.course.preflight import set_aside_unreadable
from grading.course import submissions
from grading.core.student_ids import MAX_ID_BYTES, nbgrader_exclusion, normal_id, why_not_a_student_id
from nbtools import ASSIGNMENT, SOURCE, make_course, nbgrader
from test_collect import moodle_importer_participant, moodle_worksheet_rows
from test_grading_cases import instructor_answers, submission

NFD = lambda text: unicodedata.normalize("NFD", text)  # noqa: E731  (as macOS writes names)

ODD_IDS = ["Grace Hopper", "ödön-müller", "O'Brien", "李雷", "Ελένη", "Zoë", "~tilde", "'quoted'", "a+b@c.d"]
#: id -> the start of why it is refused.
REFUSED = {"..": "it starts with a dot", ".hidden": "it starts with a dot", "-rf": "it starts with '-'",
           "a/b": "it holds a /", "a\\b": "it holds a /", "line\nbreak": "it holds a control character",
           "tab\there": "it holds a control character", "sep\u2028x": "it holds a control character",
           "\u202eevil": "it holds a control character", " lead": "it starts or ends with a space",
           "trail ": "it starts or ends with a space", "a*": "it holds *", "a?": "it holds ?",
           "a[1]": "it holds [", "a,b": "it holds ,", 'say "hi"': 'it holds "', "<b>x": "it holds < >",
           "#1": "it holds #", "100%": "it holds %", "x" * 256: "it has 256 bytes",
           "ü" * 128: "it has 256 bytes", "bad\udcff": "it is not valid UTF-8", "": "it is empty"}


@pytest.mark.parametrize("name", ODD_IDS + ["x" * MAX_ID_BYTES, "ü" * 127, "a..b", "O’Brien"])
def test_names_nbgrader_can_hold_are_student_ids(name):
    assert why_not_a_student_id(name) is None


@pytest.mark.parametrize("name, why", REFUSED.items())
def test_names_that_escape_or_confuse_are_refused_with_the_reason(name, why):
    assert why_not_a_student_id(name).startswith(why)


def test_one_name_in_two_unicode_forms_is_one_student_id():
    assert NFD("ödön-müller") != "ödön-müller" and normal_id(NFD("ödön-müller")) == "ödön-müller"


@pytest.mark.parametrize("students", [["'Iolani", "Dumas'"], ["~root"], ["O'Brien", "李雷", "Grace Hopper"]])
def test_nbgrader_reads_the_exclusion_as_exactly_these_ids(students):
    # traitlets strips quotes around a whole value and expands a leading ~ ("~root" -> "/root").
    class App(Application):
        classes = [CourseDirectory]

    app = App()
    app.parse_command_line([nbgrader_exclusion(students)])
    assert set(CourseDirectory(parent=app).student_id_exclude.split(",")) - {""} == set(students)


def _course_with_folders(root, names):
    (root / "source" / ASSIGNMENT).mkdir(parents=True)
    source = (SOURCE / "01_convolutions.ipynb").read_bytes()
    (root / "source" / ASSIGNMENT / "01_convolutions.ipynb").write_bytes(source)
    for name in names:
        folder = os.path.join(root / "submitted", name, ASSIGNMENT)
        os.makedirs(folder)
        with open(os.path.join(folder, "01_convolutions.ipynb"), "wb") as stream:
            stream.write(_tagged(name))
    return root


def _tagged(name):
    """A notebook that says whose it is (``name``, whatever its bytes)."""
    tag = name.encode("utf-8", "surrogateescape").hex()
    return nbformat.writes(nbformat.v4.new_notebook(metadata={"tag": tag})).encode()


def test_pre_flight_files_nfd_under_nfc_and_sets_aside_what_is_no_student_id(tmp_path):
    nfd_alone, twice = NFD("Zoë"), ["müller", NFD("müller")]
    root = _course_with_folders(tmp_path, ["Grace Hopper", nfd_alone, "-rf", "line\nbreak", "bad\udcff", *twice])
    os.makedirs(root / "submitted" / ".hidden" / ASSIGNMENT)
    out = io.StringIO()
    set_aside_unreadable(root, ASSIGNMENT, out)
    log = out.getvalue()
    assert f"pre-flight: submitted/{ascii(nfd_alone)} renamed to submitted/Zoë" in log
    assert (root / "submitted" / "Zoë" / ASSIGNMENT / "01_convolutions.ipynb").read_bytes() == _tagged(nfd_alone)
    assert "NOT GRADED: submitted/-rf/ex04: not a student id: it starts with '-'" in log
    assert "NOT GRADED: submitted/'line\\nbreak/ex04': not a student id: it holds a control character" in log
    assert "not a student id: it is not valid UTF-8 text" in log
    for name in twice:  # neither is merged into the other, and each line names the other
        other = next(n for n in twice if n != name)
        assert f"{ascii(other)} names the same student in another Unicode form (NFC/NFD)" in log
    assert log.count("nbgrader never sees it. Rename the folder and put it back to grade it.") == 5
    aside = root / "submitted" / ".set-aside"
    kept = sorted(p.read_bytes() for p in aside.glob("*/01_convolutions.ipynb"))
    assert kept == sorted(_tagged(n) for n in ["-rf", "line\nbreak", "bad\udcff", *twice])
    out = io.StringIO()
    notes = {}
    assert submissions.discover(root, ASSIGNMENT, out, notes) == [("Grace Hopper", "01_convolutions"),
                                                           ("Zoë", "01_convolutions")]
    assert out.getvalue() == ("NOT GRADED: submitted/.hidden: not a student id: "
                              "it starts with a dot ('..', or a hidden folder)\n")
    assert set(notes) <= {"Grace Hopper", "Zoë"}, "a refused folder names no student"


def test_collect_files_odd_ids_in_nfc_and_refuses_unsafe_ones(tmp_path):
    root = tmp_path / "course"
    archive = root / "downloaded" / ASSIGNMENT / "archive"
    archive.mkdir(parents=True)
    ids = {"11": NFD("ödön-müller"), "12": "李雷", "13": "O'Brien", "21": "..", "22": ".hidden", "23": "-rf",
           "24": "a\nb", "25": "x" * 300}
    for participant in ids:
        folder = archive / f"Someone_{participant}_assignsubmission_file_"
        folder.mkdir()
        (folder / "01_convolutions.ipynb").write_text(participant)
    (archive / "Ελένη_01_convolutions.ipynb").write_text("named file")
    mapping = tmp_path / "ids.csv"
    with open(mapping, "w", newline="", encoding="utf-8") as stream:
        csv.writer(stream).writerows([["participant_id", "student_id"], *ids.items()])
    lines = []
    counts = collect(root, ASSIGNMENT, mapping_path=mapping, log=lines.append)
    log = "\n".join(lines)
    assert counts["added"] == 4 and counts["refused"] == 5
    for participant, name in ids.items():
        folder = root / "submitted" / normal_id(name) / ASSIGNMENT
        if participant < "20":
            assert (folder / "01_convolutions.ipynb").read_text() == participant
        else:
            assert f"the student id {name!r} is refused: {why_not_a_student_id(name)}" in log
    assert (root / "submitted" / "Ελένη" / ASSIGNMENT / "01_convolutions.ipynb").read_text() == "named file"
    assert sorted(os.listdir(root / "submitted")) == sorted(["ödön-müller", "李雷", "O'Brien", "Ελένη"])


# ------------------------------------------------------------------------------ the whole chain

#: Moodle participant id -> (full name, student id in the mapping CSV, answers typed in).
CLASS = {"11": ("Grace Hopper", "Grace Hopper", "all"), "12": ("Ödön Müller", NFD("ödön-müller"), "no conv2d"),
         "13": ("Seán O'Brien", "O'Brien", "none"), "14": ("李雷", "李雷", "all"),
         "15": ("Ελένη Παπαδοπούλου", "Ελένη", "output_size"),
         "16": ("Tom Tilde", "~tilde", "output_size"),
         "17": ("Q Uoted", "'quoted'", "no conv2d")}
#: Autograded points of notebook 01 (written answers wait for a person): 1 + 3 + 2 + 2.
POINTS = {"all": 8.0, "no conv2d": 6.0, "none": 0.0, "output_size": 1.0}


def _answers(kind):
    answers = instructor_answers("01_convolutions")
    if kind == "all":
        return answers
    if kind == "no conv2d":
        return {gid: source for gid, source in answers.items() if gid != "conv2d"}
    return {"output_size": answers["output_size"]} if kind == "output_size" else {}


def _run(root, *args):
    done = subprocess.run(args, cwd=root, capture_output=True, text=True, timeout=900,
                          env=dict(os.environ, PATH=os.pathsep.join([os.path.dirname(sys.executable),
                                                                     os.environ["PATH"]])))
    assert done.returncode == 0, f"{args} failed ({done.returncode}):\n{done.stdout[-4000:]}{done.stderr[-4000:]}"
    return done.stdout + done.stderr


def _grade(root, *args):
    return _run(root, sys.executable, "-m", "grading", *args)


@pytest.fixture(scope="module")
def chain(tmp_path_factory):
    root = make_course(tmp_path_factory.mktemp("ids") / "O'Neil's course")
    for path in (root / "source" / ASSIGNMENT).glob("*.ipynb"):
        if path.stem != "01_convolutions":
            path.unlink()
    nbgrader("generate_assignment", ASSIGNMENT, "--force", cwd=root)
    work = root.parent / "work"
    work.mkdir()
    (root / "downloaded" / ASSIGNMENT / "archive").mkdir(parents=True)
    with zipfile.ZipFile(root / "downloaded" / ASSIGNMENT / "archive" / "download.zip", "w") as download:
        for participant, (full_name, _, kind) in CLASS.items():
            notebook = submission("01_convolutions", _answers(kind), work / f"{participant}.ipynb")
            download.write(notebook, f"{NFD(full_name)}_{participant}_assignsubmission_file_/01_convolutions.ipynb")
    mapping = root / "ids.csv"
    with open(mapping, "w", newline="", encoding="utf-8") as stream:
        csv.writer(stream).writerows([["participant_id", "student_id"]]
                                     + [[f"Participant {p}", student] for p, (_, student, _) in CLASS.items()])
    out = {"collect": _grade(root, "collect", ASSIGNMENT, "--mapping", str(mapping))}
    # By hand: one folder named in NFD (graded as Zoë), and names that are no student's.
    zoe = os.path.join(root / "submitted", NFD("Zoë"), ASSIGNMENT)
    os.makedirs(zoe)
    submission("01_convolutions", _answers("output_size"), os.path.join(zoe, "01_convolutions.ipynb"))
    for name in ("-rf", "line\nbreak", ".hidden"):
        os.makedirs(os.path.join(root / "submitted", name, ASSIGNMENT))
        submission("01_convolutions", _answers("all"), os.path.join(root / "submitted", name, ASSIGNMENT,
                                                                    "01_convolutions.ipynb"))
    out["autograde"] = _grade(root, "autograde", ASSIGNMENT)
    out["feedback"] = _grade(root, "feedback", ASSIGNMENT)
    _run(root, os.path.join(os.path.dirname(sys.executable), "nbgrader"), "export", "--to", "grades.csv",
         "--log-level=WARN")
    out["moodle-grades"] = _grade(root, "moodle-grades", ASSIGNMENT)
    out["feedback-zip"] = _grade(root, "feedback-zip", ASSIGNMENT)
    out["moodle"] = (root / "grades-moodle.csv").read_text(encoding="utf-8")
    with zipfile.ZipFile(root / "feedback-moodle.zip") as handle:
        out["zip"] = {name: handle.read(name) for name in handle.namelist()}
    out["mtimes"] = {s: os.stat(root / "autograded" / s / ASSIGNMENT / "01_convolutions.ipynb").st_mtime_ns
                     for s in _students()}
    # Ελένη hands in conv2d as well: only she is recorded again; nbgrader leaves the others alone.
    eleni = root / "submitted" / "Ελένη" / ASSIGNMENT / "01_convolutions.ipynb"
    submission("01_convolutions", _answers("all"), eleni)
    out["again"] = _grade(root, "autograde", ASSIGNMENT)
    out["feedback again"] = _grade(root, "feedback", ASSIGNMENT)
    out["root"] = root
    return out


def _students():
    return sorted([normal_id(student) for _, student, _ in CLASS.values()] + ["Zoë"])


def _scores(root):
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gradebook:
        return {s.student.id: s.score for s in gradebook.assignment_submissions(ASSIGNMENT)}


EXPECTED = {**{normal_id(student): POINTS[kind] for _, student, kind in CLASS.values()}, "Zoë": 1.0}


@pytest.mark.slow
def test_odd_ids_are_collected_graded_and_recorded_exactly(chain):
    assert "refused" in chain["collect"] and "0 refused" in chain["collect"]
    filed = "ödön-müller (Ödön Müller) -> submitted/ödön-müller/ex04/: 01_convolutions.ipynb (added)"
    assert filed in chain["collect"].splitlines()
    autograde = chain["autograde"]
    assert f"pre-flight: submitted/{ascii(NFD('Zoë'))} renamed to submitted/Zoë" in autograde
    assert "NOT GRADED: submitted/-rf/ex04: not a student id: it starts with '-'" in autograde
    assert "NOT GRADED: submitted/'line\\nbreak/ex04': not a student id: it holds a control character" in autograde
    assert "NOT GRADED: submitted/.hidden: not a student id: it starts with a dot" in autograde
    assert "FAILED" not in autograde and "Traceback" not in autograde
    assert sorted(os.listdir(chain["root"] / "autograded")) == _students()
    with Gradebook(f"sqlite:///{chain['root'] / 'gradebook.db'}") as gradebook:
        names = {s.id: (s.first_name, s.last_name) for s in gradebook.students}
    assert names["ödön-müller"] == ("Ödön", "Müller") and names["O'Brien"] == ("Seán", "O'Brien")
    assert names["李雷"] == (None, "李雷") and sorted(names) == _students()


@pytest.mark.slow
def test_feedback_moodle_worksheet_and_zip_name_every_odd_id(chain):
    assert f"wrote {len(_students())} file(s) for {len(_students())} student(s)" in chain["feedback"]
    for student in _students():  # as of the second run, in which Ελένη handed in every function
        page = (chain["root"] / "feedback" / student / ASSIGNMENT / "01_convolutions.html").read_text(encoding="utf-8")
        total = re.search(r"Score: ([0-9.]+) / 10\.0", BeautifulSoup(page, "html.parser").get_text(" ", strip=True))
        assert float(total[1]) == {**EXPECTED, "Ελένη": 8.0}[student], student
    rows = {pid: grade for pid, grade, _ in moodle_worksheet_rows(chain["moodle"])}
    assert rows == {pid: POINTS[kind] for pid, (_, _, kind) in CLASS.items()}
    missing = [line for line in chain["moodle-grades"].splitlines() if "no Moodle participant id known" in line]
    assert missing == ["  not in grades-moodle.csv: Zoë (no Moodle participant id known; collect from Moodle, "
                       "or add a mapping)"]
    members = sorted(chain["zip"])
    assert members == sorted(f"{moodle_folder(name, pid)}/01_convolutions.html" for pid, (name, _, _) in CLASS.items())
    assert {moodle_importer_participant(m) for m in members} == set(CLASS)


@pytest.mark.slow
def test_a_second_run_records_one_student_and_excludes_the_odd_ids(chain):
    again = chain["again"]
    assert "recording grades (nbgrader autograde): Ελένη\n" in again and "(1 of 8 student(s))" in again, again
    assert "FAILED" not in again
    assert _scores(chain["root"]) == {**EXPECTED, "Ελένη": 8.0}
    for student in _students():
        mtime = os.stat(chain["root"] / "autograded" / student / ASSIGNMENT / "01_convolutions.ipynb").st_mtime_ns
        assert (mtime == chain["mtimes"][student]) == (student != "Ελένη"), student
    assert "wrote 1 file(s) for 1 student(s)" in chain["feedback again"]
