"""make collect (grading/course/collect.py): Moodle's download layout and named files into submitted/."""

import contextlib
import csv
import io
import os
import signal
import stat
import subprocess
import sys
import zipfile
from datetime import datetime, timezone

import pytest

from grading.course.collect import collect, write_feedback_zip, write_moodle_grades
from nbtools import ROOT

NB = b'{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}'


def notebook(tag):
    return NB.replace(b'"cells": []', b'"cells": [], "tag": "' + tag.encode() + b'"')


def zip_bytes(members):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


@pytest.fixture
def course(tmp_path):
    # Underscores and spaces in the course folder's path must not confuse anything.
    root = tmp_path / "ML course_2026 winter"
    (root / "downloaded" / "ex04" / "archive").mkdir(parents=True)
    return root


def archive(course):
    return course / "downloaded" / "ex04" / "archive"


def submitted(course, student, name="01_convolutions.ipynb"):
    return course / "submitted" / student / "ex04" / name


def run(course, **kwargs):
    lines = []
    counts = collect(course, "ex04", log=lines.append, **kwargs)
    return counts, "\n".join(lines)


def test_moodle_folders_are_filed_under_the_participant_id(course):
    folder = archive(course) / "Grace Hopper_4711_assignsubmission_file_"
    folder.mkdir()
    (folder / "01_convolutions.ipynb").write_bytes(notebook("gh"))
    (folder / "02_sobel_laplace.ipynb").write_bytes(notebook("gh2"))
    other = archive(course) / "Ada King_Lovelace_0815_assignsubmission_file_"
    other.mkdir()
    (other / "notebooks.zip").write_bytes(zip_bytes({"ex04/01_convolutions.ipynb": notebook("ada")}))
    counts, log = run(course)
    assert submitted(course, "4711").read_bytes() == notebook("gh")  # not "Hopper"
    assert submitted(course, "4711", "02_sobel_laplace.ipynb").read_bytes() == notebook("gh2")
    assert submitted(course, "0815").read_bytes() == notebook("ada")
    assert counts["added"] == 3 and not (course / "submitted" / "Hopper").exists()
    assert (submitted(course, "4711").parent / "timestamp.txt").exists()
    with open(course / "downloaded" / "ex04" / "participants.csv") as stream:
        rows = list(csv.DictReader(stream))
    assert {r["participant_id"]: r["full_name"] for r in rows} == {"4711": "Grace Hopper", "0815": "Ada King_Lovelace"}


def test_moodle_s_whole_download_zip_and_a_mapping(course, tmp_path):
    (archive(course) / "ex04-Download all submissions.zip").write_bytes(zip_bytes({
        "Grace Hopper_4711_assignsubmission_file_/01_convolutions.ipynb": notebook("gh"),
        "Alan Turing_42_assignsubmission_file_/handin.zip": zip_bytes({"01_convolutions.ipynb": notebook("at")}),
    }))
    mapping = tmp_path / "ids.csv"
    mapping.write_text("participant_id,student_id\n4711,ghopper\nParticipant 42,aturing\n")
    counts, log = run(course, mapping_path=mapping)
    assert submitted(course, "ghopper").read_bytes() == notebook("gh")
    assert submitted(course, "aturing").read_bytes() == notebook("at")
    assert sorted(p.name for p in (course / "submitted").iterdir()) == ["aturing", "ghopper"]


def test_litter_is_skipped(course):
    folder = archive(course) / "Grace Hopper_4711_assignsubmission_file_"
    (folder / ".ipynb_checkpoints").mkdir(parents=True)
    (folder / ".ipynb_checkpoints" / "01_convolutions-checkpoint.ipynb").write_bytes(notebook("old"))
    (folder / "._01_convolutions.ipynb").write_bytes(b"\0\5\26\7 resource fork")
    (folder / "01_convolutions.ipynb").write_bytes(notebook("gh"))
    (folder / "mac.zip").write_bytes(zip_bytes({"__MACOSX/._02_sobel_laplace.ipynb": b"fork",
                                               "02_sobel_laplace.ipynb": notebook("gh2"),
                                               ".ipynb_checkpoints/02_sobel_laplace-checkpoint.ipynb": notebook("x")}))
    (archive(course) / "__MACOSX").mkdir()
    run(course)
    files = sorted(p.name for p in submitted(course, "4711").parent.iterdir())
    assert files == ["01_convolutions.ipynb", "02_sobel_laplace.ipynb", "timestamp.txt"]


def test_archive_members_outside_the_archive_are_refused(course):
    (archive(course) / "mallory_handin.zip").write_bytes(zip_bytes({
        "../../escaped.ipynb": notebook("evil"), "/etc/evil.ipynb": notebook("evil"),
        "ok/01_convolutions.ipynb": notebook("fine")}))
    counts, log = run(course)
    assert "REFUSED mallory_handin.zip:../../escaped.ipynb: a path with '..'" in log
    assert "REFUSED mallory_handin.zip:/etc/evil.ipynb: an absolute path" in log
    assert submitted(course, "mallory").read_bytes() == notebook("fine")
    assert not list(course.parent.rglob("escaped.ipynb")) and counts["refused"] == 2


def test_unsafe_student_ids_are_refused(course, tmp_path):
    for pid in ("1", "2"):
        folder = archive(course) / f"Eve {pid}_{pid}_assignsubmission_file_"
        folder.mkdir()
        (folder / "01_convolutions.ipynb").write_bytes(notebook(pid))
    mapping = tmp_path / "ids.csv"
    mapping.write_text("participant_id,student_id\n1,..\n2,a/b\n")
    counts, log = run(course, mapping_path=mapping)
    assert "the student id '..' is refused: it starts with a dot" in log
    assert "the student id 'a/b' is refused: it holds a / or \\ (a path, not one folder)" in log
    assert not (course / "submitted").exists() or not any((course / "submitted").iterdir())
    assert counts["refused"] == 2


def test_the_later_of_two_uploads_wins(course):
    early = zipfile.ZipInfo("01_convolutions.ipynb", date_time=(2026, 11, 30, 9, 0, 0))
    late = zipfile.ZipInfo("01_convolutions.ipynb", date_time=(2026, 11, 30, 23, 59, 0))
    for name, info, tag in (("hopper_first.zip", early, "early"), ("hopper_second.zip", late, "late")):
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as handle:
            handle.writestr(info, notebook(tag))
        (archive(course) / name).write_bytes(buffer.getvalue())
    counts, log = run(course)
    assert submitted(course, "hopper").read_bytes() == notebook("late")
    assert "two uploads of 01_convolutions.ipynb by hopper: the later one (2026-11-30 23:59:00" in log


def test_nothing_in_submitted_is_deleted_and_conflicts_are_reported(course):
    by_hand = submitted(course, "hopper", "05_equivariance.ipynb")
    by_hand.parent.mkdir(parents=True)
    by_hand.write_bytes(notebook("by hand"))
    submitted(course, "hopper").write_bytes(notebook("earlier"))
    (archive(course) / "hopper_01_convolutions.ipynb").write_bytes(notebook("new"))
    counts, log = run(course)
    assert by_hand.read_bytes() == notebook("by hand")
    assert submitted(course, "hopper").read_bytes() == notebook("earlier"), "a conflict keeps the file"
    assert counts["conflicts"] == 1 and "CONFLICT" in log and "FORCE=1" in log
    counts, log = run(course, force=True)
    assert submitted(course, "hopper").read_bytes() == notebook("new") and counts["replaced"] == 1
    assert by_hand.read_bytes() == notebook("by hand"), "FORCE replaces, it does not delete"
    counts, log = run(course)
    assert counts == {"added": 0, "unchanged": 1, "replaced": 0, "conflicts": 0, "refused": 0}


def moodle_worksheet_rows(text):
    """What Moodle's "Upload grading worksheet" reads from a CSV (mod/assign/feedback/offline).

    It finds its columns by their (English) names and refuses the whole file unless
    "Identifier", "Grade" and "Last modified (grade)" are all there; other columns it ignores.
    The participant id is the identifier without "Participant ".
    """
    header, *records = list(csv.reader(io.StringIO(text)))
    missing = {"Identifier", "Grade", "Last modified (grade)"} - set(header)
    assert not missing, f"Moodle refuses this worksheet: no column {missing}"
    at = {name: header.index(name) for name in ("Identifier", "Grade", "Last modified (grade)")}
    return [(r[at["Identifier"]][len("Participant "):], float(r[at["Grade"]]),
             datetime.fromisoformat(r[at["Last modified (grade)"]])) for r in records]


def test_a_grade_file_for_moodle_s_import(course):
    folder = archive(course) / "Grace Hopper_4711_assignsubmission_file_"
    folder.mkdir()
    (folder / "01_convolutions.ipynb").write_bytes(notebook("gh"))
    other = archive(course) / "Alan Turing_42_assignsubmission_file_"
    other.mkdir()
    (other / "01_convolutions.ipynb").write_bytes(notebook("at"))
    run(course)
    grades = course / "grades.csv"
    grades.write_text("assignment,duedate,timestamp,student_id,last_name,first_name,email,raw_score,"
                      "late_submission_penalty,score,max_score,waiting_for_manual_grading\n"
                      "ex04,,,4711,,,,41.5,0.0,41.5,56.0,0\nex04,,,42,,,,10.0,0.0,10.0,56.0,2\n"
                      "ex04,,,hopper,,,,10.0,0.0,10.0,56.0,0\n")
    lines = []
    as_of = datetime(2026, 12, 1, 9, 30, tzinfo=timezone.utc)
    write_moodle_grades(course, "ex04", grades, course / "grades-moodle.csv", log=lines.append, modified=as_of)
    text = (course / "grades-moodle.csv").read_text()
    assert moodle_worksheet_rows(text) == [("42", 10.0, as_of), ("4711", 41.5, as_of)]
    status = {row["Identifier"]: row["Grading status"] for row in csv.DictReader(io.StringIO(text))}
    assert status == {"Participant 42": "PROVISIONAL: 2 written answers not graded yet", "Participant 4711": "final"}
    assert any("hopper" in line and "no Moodle participant id" in line for line in lines)


def moodle_importer_participant(member):
    """The participant id that Moodle's "Upload multiple feedback files in a zip" finds in a zip
    member's path (mod/assign/feedback/file/importziplib.php), or None.

    Each folder of the path is split at "_" into at most 5 parts; the first with at least 4 parts,
    a number as its second and "assignsubmission", "file" (the plugin) as its third and fourth names
    the participant. Names starting with "." are skipped.
    """
    parts = member.split("/")
    if parts[-1].startswith((".", "~")):
        return None
    for part in parts:
        pieces = part.split("_", 4)
        if len(pieces) >= 4 and pieces[1].isdigit() and pieces[2:4] == ["assignsubmission", "file"]:
            return pieces[1]
    return None


def test_the_feedback_zip_has_the_folders_of_moodle_s_download(course, tmp_path):
    download = {"Grace Hopper_4711_assignsubmission_file_": "01_convolutions.ipynb",
                "Alan Turing_42_assignsubmission_file_": "handin.zip",
                "Mary Jackson_77_assignsubmission_file_": "01_convolutions.ipynb"}
    (archive(course) / "ex04-Download all submissions.zip").write_bytes(zip_bytes({
        f"{folder}/{name}": zip_bytes({"01_convolutions.ipynb": notebook(folder)}) if name.endswith(".zip")
        else notebook(folder) for folder, name in download.items()}))
    mapping = tmp_path / "ids.csv"
    mapping.write_text("participant_id,student_id\n42,aturing\n")
    run(course, mapping_path=mapping)
    for student in ("4711", "aturing", "walkin"):  # walkin: handed in by hand, not through Moodle
        folder = course / "feedback" / student / "ex04"
        folder.mkdir(parents=True)
        (folder / "01_convolutions.html").write_text(f"<p>feedback of {student}</p>")
        (folder / "NOT_GRADED.txt").write_text("02_sobel_laplace.ipynb: not a notebook")
        (folder / "timestamp.txt").write_text("2026-12-01 09:00:00.000000 UTC")  # nbgrader copies it; not feedback
    lines = []
    done = write_feedback_zip(course, "ex04", course / "feedback-moodle.zip", log=lines.append)
    with zipfile.ZipFile(course / "feedback-moodle.zip") as handle:
        members = {info.filename: handle.read(info) for info in handle.infolist()}
    assert sorted(members) == [
        "Alan Turing_42_assignsubmission_file_/01_convolutions.html",
        "Alan Turing_42_assignsubmission_file_/NOT_GRADED.txt",
        "Grace Hopper_4711_assignsubmission_file_/01_convolutions.html",
        "Grace Hopper_4711_assignsubmission_file_/NOT_GRADED.txt"]
    assert {name.split("/")[0] for name in members} <= set(download), "the folders of Moodle's own download"
    assert members["Alan Turing_42_assignsubmission_file_/01_convolutions.html"] == b"<p>feedback of aturing</p>"
    assert {moodle_importer_participant(name) for name in members} == {"42", "4711"}
    assert done["no_feedback"] == ["77"] and done["no_participant"] == ["walkin"]
    assert any("walkin" in line and "no Moodle participant id" in line for line in lines)


def test_names_with_underscores_still_name_the_participant_for_moodle(course):
    folder = archive(course) / "Ada King_Lovelace_0815_assignsubmission_file_"
    folder.mkdir()
    (folder / "01_convolutions.ipynb").write_bytes(notebook("ada"))
    run(course)
    (course / "feedback" / "0815" / "ex04").mkdir(parents=True)
    (course / "feedback" / "0815" / "ex04" / "01_convolutions.html").write_text("ok")
    write_feedback_zip(course, "ex04", course / "feedback-moodle.zip", log=lambda line: None)
    with zipfile.ZipFile(course / "feedback-moodle.zip") as handle:
        (member,) = handle.namelist()
    assert moodle_importer_participant(member) == "0815", member


def test_collect_says_per_student_what_it_filed_and_unpacked(course):
    folder = archive(course) / "Grace Hopper_4711_assignsubmission_file_"
    folder.mkdir()
    (folder / "01_convolutions.ipynb").write_bytes(notebook("gh"))
    other = archive(course) / "Alan Turing_42_assignsubmission_file_"
    other.mkdir()
    (other / "handin.zip").write_bytes(zip_bytes({"ex04/01_convolutions.ipynb": notebook("at"),
                                                 "ex04/02_sobel_laplace.ipynb": notebook("at2")}))
    counts, log = run(course)
    assert "4711 (Grace Hopper) -> submitted/4711/ex04/: 01_convolutions.ipynb (added)" in log.splitlines()
    assert ("42 (Alan Turing) -> submitted/42/ex04/: 01_convolutions.ipynb (added, unpacked from handin.zip), "
            "02_sobel_laplace.ipynb (added, unpacked from handin.zip)") in log.splitlines()
    (folder / "01_convolutions.ipynb").write_bytes(notebook("gh, second try"))
    counts, log = run(course)
    assert "4711 (Grace Hopper) -> submitted/4711/ex04/: 01_convolutions.ipynb (CONFLICT, kept the one there)" \
        in log.splitlines()


def test_make_collect_s_command_line(course):
    folder = archive(course) / "Grace Hopper_4711_assignsubmission_file_"
    folder.mkdir()
    (folder / "01_convolutions.ipynb").write_bytes(notebook("gh"))
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    done = subprocess.run([sys.executable, "-m", "grading", "collect", "ex04", "--root", str(course)],
                          capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr
    assert "collected: 1 added" in done.stdout and submitted(course, "4711").exists()


class TookTooLong(BaseException):
    """Not an OSError, which the code under test may catch."""


@contextlib.contextmanager
def within(seconds):
    """Fail the block when it takes longer than ``seconds`` (a FIFO blocks whoever opens it)."""
    def expire(*_):
        raise TookTooLong(f"still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def test_symlinks_fifos_and_devices_are_refused_not_read(course):
    folder = archive(course) / "Grace Hopper_4711_assignsubmission_file_"
    folder.mkdir()
    (folder / "01_convolutions.ipynb").write_bytes(notebook("gh"))
    (folder / "02_sobel_laplace.ipynb").symlink_to(ROOT / "source" / "ex04" / "02_sobel_laplace.ipynb")
    (folder / "03_pooling.ipynb").symlink_to("/dev/zero")
    os.mkfifo(folder / "04_padding_stride.ipynb")
    (folder / "sub").symlink_to(ROOT / "source", target_is_directory=True)
    if os.geteuid() == 0:
        os.mknod(folder / "05_equivariance.ipynb", stat.S_IFCHR | 0o600, os.makedev(1, 5))  # /dev/zero's own
    os.mkfifo(archive(course) / "hopper_06_cnn_mnist.ipynb")
    (archive(course) / "turing_handin.zip").symlink_to("/dev/zero")
    with within(20):
        counts, log = run(course)
    assert sorted(p.name for p in submitted(course, "4711").parent.iterdir()) == ["01_convolutions.ipynb",
                                                                                  "timestamp.txt"]
    for line in ("REFUSED Grace Hopper_4711_assignsubmission_file_/02_sobel_laplace.ipynb: is a symlink, not a file",
                 "REFUSED Grace Hopper_4711_assignsubmission_file_/03_pooling.ipynb: is a symlink, not a file",
                 "REFUSED Grace Hopper_4711_assignsubmission_file_/04_padding_stride.ipynb: is a FIFO (named pipe), "
                 "not a file",
                 "REFUSED Grace Hopper_4711_assignsubmission_file_/sub: is a symlink, not a file",
                 "REFUSED hopper_06_cnn_mnist.ipynb: is a FIFO (named pipe), not a file",
                 "REFUSED turing_handin.zip: is a symlink, not a file"):
        assert line in log.splitlines(), f"{line}\n---\n{log}"
    if os.geteuid() == 0:
        assert ("REFUSED Grace Hopper_4711_assignsubmission_file_/05_equivariance.ipynb: is a device, not a file"
                in log.splitlines())
    assert not (course / "submitted" / "hopper").exists() and not (course / "submitted" / "turing").exists()


def zeros_zip(members):
    """A zip of {name: size} members of zeros: a few hundred kB for hundreds of MB unpacked."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as handle:
        for name, size in members.items():
            with handle.open(name, "w") as stream:
                for _ in range(size // 2**20):
                    stream.write(bytes(2**20))
    return buffer.getvalue()


@pytest.mark.slow
def test_zip_bombs_are_refused_by_their_unpacked_size(course):
    # 0.2 MB that unpack to 240 MB: ten notebooks just under the limit of one, over that of a hand-in.
    bomb = zeros_zip({f"ex04/{i:02d}_convolutions.ipynb": 24 * 2**20 for i in range(10)})
    assert len(bomb) < 2**20
    folder = archive(course) / "Grace Hopper_4711_assignsubmission_file_"
    folder.mkdir()
    (folder / "handin.zip").write_bytes(bomb)
    (archive(course) / "turing_handin.zip").write_bytes(zeros_zip({"01_convolutions.ipynb": 30 * 2**20}))
    # A zip that declares a small size and unpacks to more: its reading stops at the declared size.
    liar = bytearray(zeros_zip({"01_convolutions.ipynb": 30 * 2**20}))
    for header, offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        at = liar.find(header)
        liar[at + offset:at + offset + 4] = (1000).to_bytes(4, "little")
    (archive(course) / "lovelace_handin.zip").write_bytes(bytes(liar))
    with within(20):
        counts, log = run(course)
    assert ("REFUSED Grace Hopper_4711_assignsubmission_file_/handin.zip: its notebooks unpack to 240 MB, over the "
            "limit of 64 MB for one hand-in") in log.splitlines(), log
    assert ("REFUSED turing_handin.zip:01_convolutions.ipynb: unpacks to 30 MB, over the limit of 25 MB for one "
            "notebook") in log.splitlines(), log
    assert "REFUSED lovelace_handin.zip:01_convolutions.ipynb: could not be unpacked" in log, log
    assert not (course / "submitted").exists() or not any((course / "submitted").rglob("*.ipynb"))
    assert counts["refused"] == 3


def test_a_hand_in_over_the_limit_in_all_is_cut_where_it_passes_it(course):
    folder = archive(course) / "Grace Hopper_4711_assignsubmission_file_"
    folder.mkdir()
    for i in range(3):  # 24 MB each, in three zips: the third passes 64 MB
        (folder / f"part{i}.zip").write_bytes(zeros_zip({f"0{i + 1}_convolutions.ipynb": 24 * 2**20}))
    with within(20):
        counts, log = run(course)
    assert len(list(submitted(course, "4711").parent.glob("*.ipynb"))) == 2
    assert ("REFUSED Grace Hopper_4711_assignsubmission_file_/part2.zip:03_convolutions.ipynb: unpacks to 24 MB, "
            "over the limit of 64 MB for 4711's hand-in in all") in log.splitlines(), log
