"""Parallel test runs (``pytest -n auto --dist loadgroup``, as ``make test`` does).

Every test file runs in one worker, in order, so that a module's expensive fixtures (a scratch
course graded once, a Lab server) are built once, and each notebook under nbval runs its cells
in one kernel. The crafted grading cases are independent of each other: they spread over all
workers.
"""

import pytest

SPREAD = ("tests/test_grading_cases.py",)


def pytest_collection_modifyitems(config, items):
    for item in items:
        path = item.nodeid.split("::")[0]
        if path not in SPREAD:
            item.add_marker(pytest.mark.xdist_group(path))
