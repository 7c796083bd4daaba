"""Test results as a type (grading/core/results.py): the JSON form of the cache, kinds and phases; unit tests."""

import json

import pytest

from grading.core.results import MAX_MESSAGE, Kind, Phase, TestResult

#: Results as caches written before the result type existed hold them (a visible failure with its
#: root cause, a passed test, a set-up that broke), with sort_keys as jobs.store writes them.
CACHED = [
    '{"cause": "Your corr2d cell has a SyntaxError on line 3.", "check": "corr2d on the sheet", "kind": "error", '
    '"message": "name \'corr2d\' is not defined", "passed": false, "phase": "visible", "points": 2.0, "score": 0.0, '
    '"seconds": 0.125}',
    '{"check": "", "kind": "passed", "message": "", "passed": true, "phase": null, "points": 1.5, "score": 1.5, '
    '"seconds": 0.031}',
    '{"check": "", "kind": "timeout", "message": "no answer within the time limit", "passed": false, '
    '"phase": "setup", "points": 3.0, "score": 0.0, "seconds": 0.0}',
]


@pytest.mark.parametrize("text", CACHED)
def test_a_cached_result_reads_and_writes_back_to_the_same_json(text):
    result = TestResult.from_dict(json.loads(text))
    assert json.dumps(result.to_dict(), sort_keys=True) == text


def test_kinds_and_phases_are_their_plain_strings_in_json():
    result = TestResult.failure(Kind.CRASHED, "gone", Phase.HIDDEN)
    assert json.dumps(result.to_dict()) == ('{"passed": false, "kind": "crashed", "phase": "hidden", "check": "", '
                                            '"message": "gone"}')
    assert result.kind == "crashed" and result.phase == "hidden"  # str-valued: old comparisons still hold
    assert {kind.value for kind in Kind} == {"passed", "failed", "error", "crashed", "timeout"}
    assert {phase.value for phase in Phase} == {"visible", "hidden", "setup"}


def test_a_result_is_scored_with_all_its_points_or_none():
    assert TestResult.success().scored(2.5, 0.1).to_dict() == {
        "passed": True, "kind": "passed", "phase": None, "check": "", "message": "", "points": 2.5, "score": 2.5,
        "seconds": 0.1}
    failed = TestResult.failure(Kind.FAILED, "wrong", Phase.VISIBLE, "f(1)").scored(2.5, 0.1)
    assert (failed.points, failed.score, failed.seconds) == (2.5, 0.0, 0.1)


def test_a_long_message_is_cut():
    assert len(TestResult.failure(Kind.ERROR, "x" * (MAX_MESSAGE + 50)).message) == MAX_MESSAGE


@pytest.mark.parametrize("data, message", [
    ({"passed": False, "kind": "exploded", "phase": "hidden"}, "exploded"),
    ({"passed": False, "kind": "failed", "phase": "secret"}, "secret"),
    ({"passed": True, "kind": "failed", "phase": None}, "passed=True"),
    ({"passed": False}, "without 'kind'"),
])
def test_a_result_that_no_engine_writes_is_refused_by_name(data, message):
    with pytest.raises(ValueError, match=message):
        TestResult.from_dict(data)
