"""Tests for helpers.checking: the checks behind the notebooks' visible tests.

Each failure test builds one kind of student mistake, then checks both the
distinctive phrase and the concrete numbers (shapes, counts, positions,
expected and got) the student needs to find it.
"""

import re
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

from helpers.checking import check_array, check_numpy_only, check_scalar, check_shape

REPO_ROOT = Path(__file__).resolve().parents[1]

# A 3x3 reference with no symmetry, so no transform of it equals itself.
REFERENCE = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 10.0]])


class FakeTensor:
    """The part of a torch tensor's interface that the checks rely on."""

    def __init__(self, values, fails=False):
        self.values = np.asarray(values)
        self.fails = fails
        self.calls = []

    def detach(self):
        self.calls.append("detach")
        return self

    def cpu(self):
        self.calls.append("cpu")
        return self

    def numpy(self):
        self.calls.append("numpy")
        if self.fails:
            raise TypeError("Got unsupported ScalarType BFloat16")
        return self.values


def failure_message(check, *args, **kwargs):
    """Run a check that must fail and return its message."""
    with pytest.raises(AssertionError) as caught:
        check(*args, **kwargs)
    return str(caught.value)


# ---------------------------------------------------------------------------
# Success is silent
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "got, expected",
    [
        (REFERENCE.copy(), REFERENCE),
        (np.arange(6).reshape(2, 3), np.arange(6).reshape(2, 3)),
        (np.array([True, False]), np.array([True, False])),
        (np.float64(2.5), 2.5),
        (np.linspace(0, 1, 5), np.linspace(0, 1, 5)),
        (np.ones((2, 3, 4)), np.ones((2, 3, 4))),
        ([[1, 2], [3, 4]], np.array([[1, 2], [3, 4]])),
        (np.array([np.nan, np.inf]), np.array([np.nan, np.inf])),
    ],
    ids=["2d-float", "2d-int", "bool", "0d", "1d", "3d", "list", "nan-and-inf-expected"],
)
def test_correct_array_returns_none_silently(got, expected, capsys):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = check_array(got, expected, array_only=not isinstance(got, list))
    assert result is None
    assert caught == []
    output = capsys.readouterr()
    assert output.out == "" and output.err == ""


def test_correct_scalar_and_shape_return_none_silently(capsys):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        results = [check_scalar(3, 3), check_shape(np.zeros((2, 5)), (2, 5))]
    assert results == [None, None]
    assert caught == []
    output = capsys.readouterr()
    assert output.out == "" and output.err == ""


def test_failing_checks_neither_print_nor_warn(capsys):
    # inf - inf and 0 * inf would raise RuntimeWarnings if left unguarded.
    got = np.array([np.inf, 0.0, 1.0])
    expected = np.array([-np.inf, np.inf, 2.0])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(AssertionError):
            check_array(got, expected)
        with pytest.raises(AssertionError):
            check_array(np.array([np.nan, 1.0]), np.array([1.0, 1.0]))
        with pytest.raises(AssertionError):
            check_array([[1, 2], [3]], REFERENCE)
    assert caught == []
    output = capsys.readouterr()
    assert output.out == "" and output.err == ""


# ---------------------------------------------------------------------------
# Tolerances
# ---------------------------------------------------------------------------


def test_tiny_float_error_is_accepted():
    assert check_array(REFERENCE + 1e-9, REFERENCE) is None


def test_float_error_beyond_tolerance_is_reported():
    message = failure_message(check_array, REFERENCE + 1e-3, REFERENCE, rtol=1e-6, atol=1e-8)
    assert "9 of 9 values differ" in message


def test_integers_are_compared_exactly():
    message = failure_message(check_array, np.array([11, 12]), np.array([11, 13]))
    assert "[1]: expected 13, got 12" in message


def test_looser_tolerance_is_honoured():
    assert check_array(REFERENCE * 1.01, REFERENCE, rtol=0.02) is None


# ---------------------------------------------------------------------------
# What was returned
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("check, args", [
    (check_array, (REFERENCE,)),
    (check_scalar, (3,)),
    (check_shape, ((3, 3),)),
])
def test_none_points_at_missing_return(check, args):
    message = failure_message(check, None, *args, name="conv2d(X, K)")
    assert message.startswith("conv2d(X, K) is None")
    assert "`return` statement is missing" in message


def test_tensor_like_result_is_accepted():
    tensor = FakeTensor(REFERENCE)
    assert check_array(tensor, REFERENCE) is None
    assert tensor.calls == ["detach", "cpu", "numpy"]


def test_tensor_like_result_with_wrong_values_is_reported():
    message = failure_message(check_array, FakeTensor(REFERENCE + 1), REFERENCE, name="Y")
    assert "Every value is 1 more than the expected one" in message


def test_tensor_like_reference_is_accepted():
    assert check_array(REFERENCE, FakeTensor(REFERENCE)) is None


def test_tensor_that_numpy_cannot_hold_is_explained():
    message = failure_message(check_array, FakeTensor(REFERENCE, fails=True), REFERENCE, name="Y")
    assert message.startswith("Y is an object of type FakeTensor")
    assert "could not be copied into a NumPy array" in message
    assert "BFloat16" in message


def test_list_is_refused_by_default_with_the_fix():
    message = failure_message(check_array, [[1, 2], [3, 4]], np.array([[1, 2], [3, 4]]), name="Y")
    assert message.startswith("Y is a list, but a NumPy array was expected")
    assert "np.array(...)" in message


def test_non_square_wrong_values_get_details_not_a_crash():
    expected = np.arange(6).reshape(2, 3)
    got = np.flip(expected.T)  # shape (3, 2): transposes and flips have other shapes
    message = failure_message(check_array, got, expected, name="Y")
    assert "has shape (3, 2) but should have (2, 3)" in message
    rotated = np.rot90(expected, 2) + 0.5  # same shape, no pattern: plain details
    message = failure_message(check_array, rotated, expected, name="Y")
    assert "6 of 6 values differ" in message


def test_ragged_list_is_explained():
    message = failure_message(check_array, [[1, 2, 3], [4, 5]], REFERENCE, name="Y", array_only=False)
    assert message.startswith("Y is a list that NumPy cannot turn into an array")
    assert "rows of different lengths" in message


def test_string_is_explained():
    message = failure_message(check_array, "1 2 3", [1, 2, 3], name="Y")
    assert message.startswith("Y is a str ('1 2 3')")
    assert "NumPy array of numbers was expected" in message


def test_object_array_is_explained():
    message = failure_message(check_array, np.array([1, None, 3], dtype=object), [1, 2, 3], name="Y", array_only=False)
    assert "not all numbers (NumPy dtype object)" in message


def test_reference_that_is_not_numeric_is_the_authors_bug():
    with pytest.raises(TypeError, match="expected must hold numbers"):
        check_array([1, 2], ["a", "b"])


# ---------------------------------------------------------------------------
# Shapes
# ---------------------------------------------------------------------------


def test_shape_message_names_both_shapes():
    message = failure_message(check_array, np.zeros((4, 7)), np.zeros((4, 5)), name="Y")
    assert message.startswith("Y has shape (4, 7) but should have (4, 5).")


def test_transposed_shape_is_spotted():
    message = failure_message(check_array, np.zeros((2, 3)), np.zeros((3, 2)))
    assert "(2, 3) but should have (3, 2)" in message
    assert "rows and columns swapped?" in message


def test_flattened_result_is_spotted():
    message = failure_message(check_array, np.zeros(9), REFERENCE)
    assert "Got a 1-D array, expected 2-D" in message
    assert "did you flatten it, or forget to reshape it?" in message
    assert "right number of entries (9)" in message


def test_extra_axis_of_length_one_is_spotted():
    message = failure_message(check_array, np.zeros((1, 3, 3)), REFERENCE)
    assert "Got a 3-D array, expected 2-D" in message
    assert "np.squeeze" in message


def test_permuted_axes_are_spotted():
    # channels last (H, W, C) where channels first (C, H, W) was asked for
    message = failure_message(check_array, np.zeros((8, 6, 3)), np.zeros((3, 8, 6)))
    assert "axes permuted" in message


def test_reversed_axes_are_spotted():
    message = failure_message(check_array, np.zeros((4, 3, 2)), np.zeros((2, 3, 4)))
    assert "axes are in reverse order" in message


def test_each_side_too_long_with_caller_hint():
    hint = "The output of a valid correlation has n - k + 1 rows."
    message = failure_message(
        check_array, np.zeros((7, 7)), np.zeros((5, 5)), name="Y", shape_hint=hint
    )
    assert "(7, 7) but should have (5, 5)" in message
    assert "Each side is 2 too long" in message
    assert message.endswith(hint)


def test_each_side_too_short():
    message = failure_message(check_array, np.zeros((2, 2)), REFERENCE)
    assert "Each side is 1 too short" in message


def test_one_dimensional_length_difference():
    message = failure_message(check_array, np.zeros(6), np.zeros(4))
    assert "(6,) but should have (4,)" in message
    assert "It is 2 too long" in message


def test_unrelated_shapes_get_no_made_up_cause():
    message = failure_message(check_array, np.zeros((2, 7)), np.zeros((3, 3)))
    assert message == "result has shape (2, 7) but should have (3, 3)."


def test_check_shape_passes_and_fails():
    assert check_shape(np.zeros((3, 4)), (3, 4)) is None
    assert check_shape([1, 2, 3], 3) is None
    message = failure_message(
        check_shape, np.zeros((4, 4)), (3, 3), name="pooled", shape_hint="Stride is 2."
    )
    assert message.startswith("pooled has shape (4, 4) but should have (3, 3).")
    assert "Each side is 1 too long" in message
    assert message.endswith("Stride is 2.")


def test_check_shape_ignores_values():
    assert check_shape(np.full((2, 2), np.nan), (2, 2)) is None


# ---------------------------------------------------------------------------
# NaN, inf and integer dtypes
# ---------------------------------------------------------------------------


def test_nan_and_inf_are_counted_and_located():
    got = REFERENCE.copy()
    got[0, 2] = np.nan
    got[1, 0] = np.nan
    got[2, 1] = np.inf
    message = failure_message(check_array, got, REFERENCE, name="Y")
    assert message.startswith("Y contains 2 NaN values and 1 infinite value")
    assert "first at [0, 2]: expected 3, got nan" in message


def test_integer_dtype_that_truncates_fractions_is_explained():
    image = np.array([[1, 2], [3, 4]])
    expected = image / 2
    got = np.zeros_like(image)  # the student's mistake: an int64 output array
    got[:] = image / 2
    message = failure_message(check_array, got, expected, name="Y")
    assert message.startswith(f"Y has the integer dtype {got.dtype}")
    assert "for example 0.5 at [0, 0]" in message
    assert "np.zeros_like(X)" in message
    assert "np.zeros(shape, dtype=float)" in message
    assert "np.result_type" in message
    assert "2 of 4 values differ" in message
    assert "[1, 0]: expected 1.5, got 1" in message


def test_integer_dtype_with_whole_expected_values_is_fine():
    assert check_array(np.array([1, 2]), np.array([1.0, 2.0])) is None


# ---------------------------------------------------------------------------
# Wrong values: systematic patterns
# ---------------------------------------------------------------------------


def test_opposite_sign_suggests_flipped_kernel():
    message = failure_message(check_array, -REFERENCE, REFERENCE, name="Y")
    assert "opposite sign" in message
    assert "convolution computed where correlation was asked for" in message


def test_rotation_by_180_degrees_is_spotted():
    message = failure_message(check_array, np.rot90(REFERENCE, 2), REFERENCE)
    assert "rotated by 180 degrees" in message


def test_reversed_vector_is_spotted():
    message = failure_message(check_array, np.array([3.0, 2.0, 1.0]), np.array([1.0, 2.0, 3.0]))
    assert "in reverse order" in message


def test_transpose_is_spotted():
    message = failure_message(check_array, REFERENCE.T, REFERENCE)
    assert "transpose of the expected one" in message


@pytest.mark.parametrize("axis, step, label, sign", [
    (0, 1, "axis 0 (rows)", "i - 1"),
    (0, -1, "axis 0 (rows)", "i + 1"),
    (1, 1, "axis 1 (columns)", "i - 1"),
    (1, -1, "axis 1 (columns)", "i + 1"),
])
def test_shift_by_one_is_spotted(axis, step, label, sign):
    got = np.roll(REFERENCE, step, axis=axis)
    message = failure_message(check_array, got, REFERENCE)
    assert f"shifted by one position along {label}" in message
    assert f"expected value at index {sign}" in message
    assert "off by one" in message


def test_constant_offset_is_spotted():
    message = failure_message(check_array, REFERENCE - 0.5, REFERENCE)
    assert "Every value is 0.5 less than the expected one" in message


def test_constant_factor_is_spotted():
    message = failure_message(check_array, REFERENCE * 9, REFERENCE)
    assert "Every value is 9 times the expected one" in message


def test_all_zero_result_is_spotted():
    message = failure_message(check_array, np.zeros((3, 3)), REFERENCE)
    assert "Every value is 0" in message
    assert "never filled in" in message


def test_scattered_errors_get_no_made_up_pattern():
    got = REFERENCE.copy()
    got[1, 2] = 9
    message = failure_message(check_array, got, REFERENCE, name="Y")
    assert message.splitlines()[:2] == [
        "Y has the expected shape (3, 3) but different values.",
        "1 of 9 values differs from the expected ones.",
    ]


# ---------------------------------------------------------------------------
# Wrong values: counts, largest difference and positions
# ---------------------------------------------------------------------------


def test_details_count_locate_and_list_mismatches():
    got = REFERENCE.copy()
    got[0, 1] = 0
    got[1, 2] = 9
    got[2, 0] = 8
    message = failure_message(check_array, got, REFERENCE, name="Y")
    assert "3 of 9 values differ" in message
    assert "Largest absolute difference: 3 at [1, 2] (expected 6, got 9)." in message
    listed = re.findall(r"^  \[.*$", message, flags=re.MULTILINE)
    assert listed == [
        "  [0, 1]: expected 2, got 0",
        "  [1, 2]: expected 6, got 9",
        "  [2, 0]: expected 7, got 8",
    ]


def test_at_most_five_mismatches_are_listed():
    got = np.arange(20.0)
    got[::2] += 1  # ten scattered errors, no pattern
    message = failure_message(check_array, got, np.arange(20.0))
    assert "10 of 20 values differ" in message
    assert "The first 5 of them:" in message
    listed = re.findall(r"^  \[.*$", message, flags=re.MULTILINE)
    assert len(listed) == 5
    assert listed[0] == "  [0]: expected 0, got 1"
    assert listed[-1] == "  [8]: expected 8, got 9"


def test_numbers_are_written_compactly():
    message = failure_message(check_array, np.array([[11.0, 0.25]]), np.array([[9.0, 0.25]]))
    assert "[0, 0]: expected 9, got 11" in message
    assert "9.0" not in message and "np.float64" not in message


def test_three_dimensional_positions():
    expected = np.arange(24).reshape(2, 3, 4)
    got = expected.copy()
    got[1, 2, 3] = 0
    message = failure_message(check_array, got, expected, name="feature_maps")
    assert message.startswith("feature_maps has the expected shape (2, 3, 4)")
    assert "[1, 2, 3]: expected 23, got 0" in message


def test_zero_dimensional_mismatch():
    message = failure_message(check_array, np.float64(3.0), 2.5, name="loss")
    assert message == "loss is 3 but should be 2.5."


def test_bool_arrays():
    message = failure_message(check_array, np.array([True, True]), np.array([True, False]))
    assert "[1]: expected False, got True" in message


# ---------------------------------------------------------------------------
# Scalars
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("got, expected", [
    (3, 3),
    (3.0, 3),
    (np.int64(3), 3),
    (np.float32(0.5), 0.5),
    (np.array(7.0), 7),
    (FakeTensor(np.array(4.0)), 4),
    (0.1 + 0.2, 0.3),
    (float("nan"), float("nan")),
])
def test_check_scalar_accepts_numbers(got, expected):
    assert check_scalar(got, expected) is None


def test_check_scalar_mismatch_names_both_values():
    message = failure_message(check_scalar, 4, 3, name="output_size(5, 3)")
    assert message == "output_size(5, 3) is 4 but should be 3."


def test_check_scalar_integers_are_exact():
    message = failure_message(check_scalar, 10**12 + 1, 10**12, name="n", rtol=1e-6)
    assert message == "n is 1000000000001 but should be 1000000000000."


def test_check_scalar_refuses_bool():
    message = failure_message(check_scalar, True, 1, name="n")
    assert message.startswith("n is the bool True, but a number was expected.")


@pytest.mark.parametrize("got, phrase", [
    ((3,), "a tuple of length 1"),
    ([3, 4], "a list of length 2"),
    (np.array([3.0]), "an array of shape (1,)"),
    (np.zeros((2, 2)), "an array of shape (2, 2)"),
    ("3", "a str ('3')"),
])
def test_check_scalar_refuses_containers(got, phrase):
    message = failure_message(check_scalar, got, 3, name="n")
    assert message.startswith(f"n is {phrase}, but a single number was expected.")


# ---------------------------------------------------------------------------
# Dependencies
# ---------------------------------------------------------------------------


def test_import_loads_only_numpy():
    code = (
        "import sys, helpers.checking; "
        "print(sorted(m for m in ('matplotlib', 'scipy', 'torch') if m in sys.modules))"
    )
    completed = subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    assert completed.stdout.strip() == "[]"
    assert completed.stderr == ""


# ------------------------------------------------------------------ check_numpy_only


def test_check_numpy_only_returns_the_result_of_a_numpy_function():
    assert check_numpy_only(lambda a, b=1: np.add(a, b).sum(), np.arange(3), b=2) == 9


def test_check_numpy_only_names_the_library_a_function_used():
    import scipy.signal

    def delegates(x):
        return scipy.signal.correlate2d(x, np.ones((2, 2)), mode="valid")

    with pytest.raises(AssertionError, match=r"delegates used scipy\. .*scores 0"):
        check_numpy_only(delegates, np.ones((3, 3)))


def test_check_numpy_only_catches_helpers_and_restores_the_profiler():
    import sys

    from helpers import data

    sentinel = lambda frame, event, arg: None  # noqa: E731
    sys.setprofile(sentinel)
    try:
        with pytest.raises(AssertionError, match="used helpers"):
            check_numpy_only(lambda: data.sheet_image())
        assert sys.getprofile() is sentinel
    finally:
        sys.setprofile(None)


def test_check_numpy_only_lets_the_functions_own_errors_through():
    def broken(x):
        raise ValueError("bad input")

    with pytest.raises(ValueError, match="bad input"):
        check_numpy_only(broken, 1)


def test_a_missing_or_partial_flip_is_named_not_called_an_offset():
    # The visible check of conv2d in notebook 01: an image without a pattern, so that each
    # mistake has a result of its own, which the check names before any generic pattern.
    import scipy.signal

    X = np.array([[3, 1, 4, 1], [5, 9, 2, 6], [5, 3, 5, 8]])
    K = np.array([[1, 2], [3, 4]])
    mistakes = {"no flip": scipy.signal.correlate2d(X, K, mode="valid"),
                "rows only": scipy.signal.correlate2d(X, K[::-1], mode="valid"),
                "columns only": scipy.signal.correlate2d(X, K[:, ::-1], mode="valid")}
    expected = scipy.signal.convolve2d(X, K, mode="valid")
    for description, result in mistakes.items():
        with pytest.raises(AssertionError) as error:
            check_array(result, expected, name="conv2d", likely_mistakes=mistakes)
        assert f"It equals {description}." in str(error.value) and "offset" not in str(error.value)
    # On the old test image, a linear ramp, a missing flip looked like a constant offset.
    ramp = np.arange(12).reshape(3, 4)
    with pytest.raises(AssertionError, match="constant offset"):
        check_array(scipy.signal.correlate2d(ramp, K, mode="valid"), scipy.signal.convolve2d(ramp, K, mode="valid"))
    check_array(expected, expected, likely_mistakes=mistakes)  # right is right


@pytest.mark.slow
@pytest.mark.parametrize("preamble", [True, False])
def test_a_failed_check_shows_the_student_s_call_not_helper_code(preamble):
    import nbformat
    from nbclient import NotebookClient

    code = ("import numpy as np, helpers\nfrom helpers.checking import check_array\n"
            + ("helpers.setup_notebook(use_torch=False)\n" if preamble else "")
            + "check_array(np.array([1, 2]), [1, 3], name='f(x)')")
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(code)])
    NotebookClient(nb, kernel_name="python3", allow_errors=True).execute()
    shown = re.sub(r"\x1b\[[0-9;]*m", "", "\n".join(nb.cells[0].outputs[-1]["traceback"]))
    assert "check_array(np.array([1, 2]), [1, 3], name='f(x)')" in shown and "expected 3, got 2" in shown
    # Without the course preamble IPython shows the helper's lines: the test can fail.
    assert ("checking.py" in shown) == (not preamble), shown


# ------------------------------------------------------------------ the trusted side judges with these checks

# (got, expected, keyword arguments) that pass or fail check_array for different reasons.
JUDGED_ARRAYS = [
    (np.array([[1.0, 2.0]]), [[1.0, 2.0]], {}),
    (np.array([[1.0, 2.0]]), [[1.0, 2.5]], {}),
    (np.array([1.0 + 1e-7]), [1.0], {}),                    # within rtol 1e-6
    (np.array([1e3 + 1e-2]), [1e3], {}),                     # beyond rtol 1e-6 of 1e3
    (np.array([5e-9]), [0.0], {}),                           # within atol 1e-8
    (np.array([1e3 + 1e-2]), [1e3], {"rtol": 1e-4}),
    ([1.0, 2.0], [1.0, 2.0], {}),                            # a list where an array was promised
    (np.zeros((3, 3)), np.zeros((2, 2)), {"hint": "Valid mode."}),
    (np.array([1, 2]), [1.0, 2.5], {}),                      # integer dtype, fractions expected
    (np.array([2, 3]), [2, 3], {"exact": True}),
    (np.array([2.0, 3.0 + 1e-12]), [2, 3], {"exact": True}),
    (np.array([[3, 4]]), [[1, 2]], {"likely_mistakes": {"the input": [[3, 4]]}}),
]


def _arguments_of_check_array(options):
    """check_array's keywords for expect_array's: hint is shape_hint, exact means both tolerances 0."""
    arguments = {"shape_hint" if k == "hint" else k: v for k, v in options.items() if k != "exact"}
    if options.get("exact"):
        arguments.update(rtol=0.0, atol=0.0)
    return arguments


def _outcome(check, *args, **kwargs):
    """None when the check passes, else its message (AssertionError and Failed alike)."""
    from grading.core.testing import Failed

    try:
        check(*args, **kwargs)
    except (AssertionError, Failed) as error:
        return str(error)
    return None


@pytest.mark.parametrize("got, expected, options", JUDGED_ARRAYS)
def test_the_trusted_expect_array_is_check_array(got, expected, options):
    """Same verdict and same message as the notebook's check: one rule, written once."""
    from grading.core.testing import expect_array

    trusted = _outcome(expect_array, got, expected, "f(X)", **options)
    notebook = _outcome(check_array, got, expected, "f(X)", **_arguments_of_check_array(options))
    assert trusted == notebook


@pytest.mark.parametrize("got, expected", [(3, 3), (4, 3), (True, 1), (3.0 + 3e-9, 3.0), (3.0 + 1e-8, 3.0),
                                           (np.int64(3), 3), (np.array(3.0), 3), ([3], 3), (None, 3)])
def test_the_trusted_expect_scalar_is_check_scalar(got, expected):
    from grading.core.testing import expect_scalar

    assert _outcome(expect_scalar, got, expected, "n") == _outcome(check_scalar, got, expected, "n")


@pytest.mark.parametrize("got, shape", [(np.zeros((2, 3)), (2, 3)), (np.zeros((3, 2)), (2, 3)), (np.zeros(4), 4),
                                        ("text", (1,))])
def test_the_trusted_expect_shape_is_check_shape(got, shape):
    from grading.core.testing import expect_shape

    assert (_outcome(expect_shape, got, shape, "Y", hint="Padding?")
            == _outcome(check_shape, got, shape, "Y", shape_hint="Padding?"))


def test_expect_scalar_still_insists_on_a_python_int_when_asked():
    from grading.core.testing import Failed, expect_scalar

    expect_scalar(3, 3, "n", kind="int")
    with pytest.raises(Failed, match="should be a Python int, got int64"):
        expect_scalar(np.int64(3), 3, "n", kind="int")
