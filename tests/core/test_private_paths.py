"""No path of the grading machine reaches a result (grading/core/private_paths.py).

A student's code prints what it can find out about the machine that grades it: the folders
bound into its sandbox (/proc/self/mountinfo: the venv's site-packages, the job's folder), the
interpreter's prefix and file, the standard library; then the course folder as a trusted-side
message would name it. The stored result names none of them, only placeholders.
"""

import json
import os
import sys
import tempfile

import nbformat
import pytest

from grading.core import jobs
from grading.core.private_paths import scrub_result
from grading.core.sandbox import JOB_PREFIX, bwrap_path, grader_folder_path
from nbtools import ASSIGNMENT, RELEASE, ROOT, make_course, nbgrader_meta

NOTEBOOK = "01_convolutions"

PRINTS_THE_MACHINE = '''
def output_size(n, k, stride=1, padding=0):
    import collections, os, sys
    mounts = [line.split()[3] for line in open("/proc/self/mountinfo") if "/sbx" in line.split()[4]]
    raise RuntimeError(" ".join(mounts + [sys.prefix, sys.executable, collections.__file__]))
'''


def test_placeholders_replace_the_machine_s_paths(tmp_path):
    course = tmp_path / "a course"
    text = (f"{sys.prefix}/lib/python3.11/site-packages/numpy {os.path.realpath(sys.base_prefix)}/bin/python "
            f"{tempfile.gettempdir()}/{JOB_PREFIX}a1_b2/lib {grader_folder_path()}/files-c3/nb.py "
            f"{ROOT}/grading/core/engine.py {os.path.expanduser('~')}/.cache "
            f"{str(course).replace(' ', chr(92) + '040')}/submitted /home/student/x.py /usr/bin/python3 "
            f"x{ROOT}/grading/core/jobs.py")
    clean = scrub_result({"message": text}, course)["message"]
    for private in (sys.prefix, os.path.realpath(sys.base_prefix), f"{tempfile.gettempdir()}/{JOB_PREFIX}", str(ROOT),
                    "a\\040course", "files-c3"):
        assert private not in clean, (private, clean)
    assert "<job>/lib" in clean and "<job>/nb.py" in clean, "a job's folder, in the temporary or the grader's folder"
    assert "<course>/grading/core/engine.py" in clean and "<course>/submitted" in clean
    assert "x<course>/grading/core/jobs.py" in clean, "a path right after a name's character is found too"
    assert "/home/student/x.py /usr/bin/python3" in clean, "the sandbox's own paths and the system's stay"


@pytest.mark.slow
@pytest.mark.skipif(bwrap_path() is None, reason="bubblewrap is not installed (make venv installs it as root)")
def test_a_student_exception_that_prints_the_machine_s_paths_reaches_no_result(tmp_path):
    course = make_course(tmp_path / "course")
    nb = nbformat.read(str(RELEASE / f"{NOTEBOOK}.ipynb"), as_version=4)
    for cell in nb.cells:
        if nbgrader_meta(cell).get("grade_id") == "output_size":
            cell.source = PRINTS_THE_MACHINE
    submission = course / "submitted" / "mallory" / ASSIGNMENT / f"{NOTEBOOK}.ipynb"
    submission.parent.mkdir(parents=True)
    nbformat.write(nb, str(submission))
    _, _, result = jobs.run_job(course, ASSIGNMENT, "mallory", NOTEBOOK)
    message = result["tests"]["test_output_size"]["message"]
    assert "<python>/site-packages/numpy" in message and "<job>/lib" in message, message  # it did print them
    text = json.dumps(result)
    for private in {sys.prefix, os.path.realpath(sys.prefix), os.path.realpath(sys.base_prefix), str(ROOT),
                    str(course), f"{tempfile.gettempdir()}/{JOB_PREFIX}", os.path.expanduser("~") + "/"}:
        assert private not in text, f"{private} in {message}"
