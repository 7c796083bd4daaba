"""Compare a student's result with a reference and explain any mismatch.

The visible tests in the notebooks call these checks. A check returns
``None`` when the result is right. When it is wrong, it raises
``AssertionError`` with a message the student can act on: what is wrong,
where, and the most likely cause.

The checks never print and never warn, because the autograder counts
anything on stderr as a failure. Returning ``None`` matters as well: nbgrader
reads any other value left by a test cell as partial credit. Only NumPy is
imported, so a notebook that needs nothing else stays light.

Introduced in notebook 01_convolutions.
"""

from __future__ import annotations

import numbers
import warnings

import numpy as np

__all__ = ["check_array", "check_scalar", "check_shape", "check_numpy_only"]

# Most mismatching entries a message lists; more would bury the first clue.
_MAX_LISTED = 5

# NumPy dtype kinds that hold numbers: bool, signed, unsigned, float, complex.
_NUMERIC_KINDS = "biufc"
_INTEGER_KINDS = "biu"

# Longest repr of an unexpected value quoted in a message.
_MAX_REPR = 60


# ---------------------------------------------------------------------------
# Formatting
# ---------------------------------------------------------------------------


def _format_number(value, digits=10) -> str:
    """Write a number compactly: ``11`` rather than ``11.0``, no ``np.float64(...)``."""
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (numbers.Integral, np.integer)):
        return str(int(value))
    if isinstance(value, (complex, np.complexfloating)):
        return str(complex(value))
    number = float(value)
    if number == 0:
        return "0"  # also hides the sign of -0.0, which only confuses
    return f"{number:.{digits}g}"


def _format_position(index) -> str:
    """Write an index tuple the way a student would type it, e.g. ``[1, 2]``."""
    return "[" + ", ".join(str(int(i)) for i in index) + "]"


def _format_shape(shape) -> str:
    """Write a shape as NumPy does, e.g. ``(3, 4)`` or ``(5,)``."""
    return str(tuple(int(n) for n in shape))


def _short_repr(value) -> str:
    """Quote a value, cut short so a huge string cannot flood the message."""
    text = repr(value)
    if len(text) > _MAX_REPR:
        text = text[: _MAX_REPR - 3] + "..."
    return text


def _describe_type(value) -> str:
    """Name the type of a value with its article, e.g. ``a list``."""
    if isinstance(value, np.ndarray):
        return "a NumPy array"
    if isinstance(value, (list, tuple, str, dict, set)):
        return f"a {type(value).__name__}"
    return f"an object of type {type(value).__name__}"


def _missing_return_message(name) -> str:
    return (
        f"{name} is None: the function returned None, which usually means "
        "a `return` statement is missing."
    )


# ---------------------------------------------------------------------------
# Turning what was returned into an array
# ---------------------------------------------------------------------------


def _is_tensor_like(value) -> bool:
    """Tell a torch tensor by what it can do, so torch need not be imported."""
    return hasattr(value, "detach") and hasattr(value, "numpy")


def _tensor_to_numpy(tensor) -> np.ndarray:
    """Copy a tensor into NumPy, off the autograd graph and off the GPU."""
    detached = tensor.detach()
    if hasattr(detached, "cpu"):
        detached = detached.cpu()
    return np.asarray(detached.numpy())


def _try_asarray(value):
    """Return ``np.asarray(value)``, or None when NumPy refuses the value."""
    # Older NumPy versions warn about ragged lists before failing; a warning
    # would reach stderr, so silence it and report the problem ourselves.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return np.asarray(value)
        except Exception:  # any failure means "not an array"; explain, don't crash
            return None


def _not_numeric_message(name, value, array) -> str:
    """Explain why ``value`` is not an array of numbers (``array`` may be None)."""
    wanted = "A NumPy array of numbers was expected."
    if isinstance(value, str):
        return f"{name} is a str ({_short_repr(value)}), but a NumPy array of numbers was expected."
    description = _describe_type(value)
    if array is None:
        reason = " (are its rows of different lengths?)" if isinstance(value, (list, tuple)) else ""
        return f"{name} is {description} that NumPy cannot turn into an array{reason}. {wanted}"
    if array.dtype.kind == "O" and isinstance(value, (list, tuple, np.ndarray)):
        return (
            f"{name} is {description} whose entries are not all numbers (NumPy dtype object): "
            f"is a None, a string or a list mixed in? {wanted}"
        )
    if array.dtype.kind in "US":
        return f"{name} is {description} of text (NumPy dtype {array.dtype}). {wanted}"
    if array.dtype.kind == "O":
        return f"{name} is {description}, but a NumPy array of numbers was expected."
    return f"{name} is {description} of NumPy dtype {array.dtype}. {wanted}"


def _student_array(got, name) -> np.ndarray:
    """Turn a student's result into a numeric array, or fail with the reason."""
    __tracebackhide__ = True  # IPython shows the student's call, not this helper's frames
    if got is None:
        raise AssertionError(_missing_return_message(name))
    original = got
    if _is_tensor_like(got):
        try:
            got = _tensor_to_numpy(got)
        except Exception as error:  # e.g. bfloat16, which NumPy has no dtype for
            raise AssertionError(
                f"{name} is {_describe_type(original)} that could not be copied into "
                f"a NumPy array ({error}). A NumPy array of numbers was expected."
            ) from None
    array = _try_asarray(got)
    if array is None or array.dtype.kind not in _NUMERIC_KINDS:
        raise AssertionError(_not_numeric_message(name, original, array))
    return array


def _reference_array(expected) -> np.ndarray:
    """Turn the reference into a numeric array; a bad one is the author's bug."""
    if _is_tensor_like(expected):
        expected = _tensor_to_numpy(expected)
    array = np.asarray(expected)
    if array.dtype.kind not in _NUMERIC_KINDS:
        raise TypeError(f"expected must hold numbers, not dtype {array.dtype}")
    return array


def _normalise_shape(shape) -> tuple:
    """Accept ``5`` as well as ``(5,)`` for a one-dimensional shape."""
    if isinstance(shape, (numbers.Integral, np.integer)):
        return (int(shape),)
    return tuple(int(n) for n in shape)


# ---------------------------------------------------------------------------
# Shapes
# ---------------------------------------------------------------------------


def _ndim_hint(got_shape, expected_shape) -> str:
    """Explain a difference in the number of axes."""
    got_ndim, expected_ndim = len(got_shape), len(expected_shape)
    got_size, expected_size = int(np.prod(got_shape)), int(np.prod(expected_shape))
    if got_ndim < expected_ndim:
        hint = (
            f"Got a {got_ndim}-D array, expected {expected_ndim}-D: "
            "did you flatten it, or forget to reshape it?"
        )
    else:
        hint = (
            f"Got a {got_ndim}-D array, expected {expected_ndim}-D: "
            "is an extra axis left in?"
        )
    if got_size == expected_size:
        squeezed = tuple(n for n in got_shape if n != 1)
        if got_ndim > expected_ndim and squeezed == tuple(n for n in expected_shape if n != 1):
            hint += " The extra axes have length 1; np.squeeze removes them."
        else:
            hint += (
                f" It has the right number of entries ({got_size}), "
                f"so a reshape to {_format_shape(expected_shape)} gives the right shape."
            )
    return hint


def _size_hint(got_shape, expected_shape):
    """Spot every axis being too long or too short by the same amount."""
    differences = {g - e for g, e in zip(got_shape, expected_shape)}
    if len(differences) != 1:
        return None
    difference = differences.pop()
    if difference == 0:
        return None
    amount = abs(difference)
    subject = "It is" if len(got_shape) == 1 else "Each side is"
    if difference > 0:
        return (
            f"{subject} {amount} too long: padding that was not asked for, "
            "or a loop that runs too far?"
        )
    return (
        f"{subject} {amount} too short: missing padding, "
        "or a loop that stops too early?"
    )


def _shape_hints(got_shape, expected_shape) -> list:
    """Likely causes of a shape mismatch, most specific first."""
    if len(got_shape) != len(expected_shape):
        return [_ndim_hint(got_shape, expected_shape)]
    if len(got_shape) >= 2 and tuple(got_shape) == tuple(expected_shape)[::-1]:
        if len(got_shape) == 2:
            return ["It is the transpose of the expected shape: rows and columns swapped?"]
        return ["Its axes are in reverse order: transposed?"]
    if sorted(got_shape) == sorted(expected_shape):
        return [
            "It has the right axis lengths in a different order: are the axes permuted "
            "(for example channels last instead of first)?"
        ]
    size_hint = _size_hint(got_shape, expected_shape)
    return [size_hint] if size_hint else []


def _shape_message(name, got_shape, expected_shape, shape_hint) -> str:
    lines = [
        f"{name} has shape {_format_shape(got_shape)} "
        f"but should have {_format_shape(expected_shape)}."
    ]
    lines += _shape_hints(got_shape, expected_shape)
    if shape_hint:
        lines.append(str(shape_hint))
    return "\n".join(lines)


# ---------------------------------------------------------------------------
# Values
# ---------------------------------------------------------------------------


def _where(position) -> str:
    """`` at [i, j]`` for an entry, nothing for a 0-d array."""
    return f" at {_format_position(position)}" if len(position) else ""


def _non_finite_message(name, got, expected):
    """Report NaN or inf in the result where the reference is finite."""
    if got.dtype.kind not in "fc":
        return None  # integers and bools cannot hold NaN or inf
    unexpected = ~np.isfinite(got) & np.isfinite(expected)
    if not unexpected.any():
        return None
    n_nan = int(np.count_nonzero(np.isnan(got) & unexpected))
    n_inf = int(np.count_nonzero(unexpected)) - n_nan
    counts = []
    if n_nan:
        counts.append(f"{n_nan} NaN value" + ("s" if n_nan != 1 else ""))
    if n_inf:
        counts.append(f"{n_inf} infinite value" + ("s" if n_inf != 1 else ""))
    first = tuple(np.argwhere(unexpected)[0])
    return "\n".join([
        f"{name} contains {' and '.join(counts)} where the expected result is finite "
        f"(first{_where(first)}: expected {_format_number(expected[first])}, "
        f"got {_format_number(got[first])}).",
        "NaN usually comes from 0/0 or from an array made with np.empty and never "
        "filled in; inf from dividing by zero or from an overflow.",
    ])


def _mismatch_mask(got, expected, rtol, atol) -> np.ndarray:
    """True where the result differs from the reference."""
    if got.dtype.kind in _INTEGER_KINDS and expected.dtype.kind in _INTEGER_KINDS:
        return got != expected  # whole numbers carry no rounding error to forgive
    common = np.result_type(got.dtype, expected.dtype, np.float64)
    return ~np.isclose(
        got.astype(common), expected.astype(common), rtol=rtol, atol=atol, equal_nan=True
    )


def _integer_dtype_lines(name, got, expected) -> list:
    """Explain fractions lost to an integer result, if that is what happened."""
    if got.dtype.kind not in "iu" or expected.dtype.kind != "f":
        return []
    has_fraction = np.isfinite(expected) & (expected != np.trunc(expected))
    if not has_fraction.any():
        return []
    first = tuple(np.argwhere(has_fraction)[0])
    return [
        f"{name} has the integer dtype {got.dtype}, but the expected values have fractions "
        f"(for example {_format_number(expected[first])}{_where(first)}).",
        "An integer array truncates every fraction written into it. A common cause: "
        "np.zeros_like(X) copies the integer dtype of X.",
        "Create the output with np.zeros(shape, dtype=float), "
        "or choose the dtype with np.result_type(X, kernel).",
    ]


def _slice_along(array, axis, start, stop) -> np.ndarray:
    index = [slice(None)] * array.ndim
    index[axis] = slice(start, stop)
    return array[tuple(index)]


def _axis_label(axis, ndim) -> str:
    if ndim == 2:
        return " (rows)" if axis == 0 else " (columns)"
    return ""


def _all_zero_pattern(got, expected, rtol, atol):
    if np.any(got) or not np.any(expected):
        return None
    return (
        "Every value is 0: was the output array created but never filled in "
        "(for example returned before the loop, or the values written into a copy)?"
    )


def _opposite_sign_pattern(got, expected, rtol, atol):
    if not np.allclose(got, -expected, rtol=rtol, atol=atol):
        return None
    return (
        "Every value has the opposite sign of the expected one. With an antisymmetric "
        "kernel (such as an edge detector) that is what flipping the kernel does: "
        "convolution computed where correlation was asked for, or the other way round?"
    )


def _reversed_pattern(got, expected, rtol, atol):
    if got.ndim not in (1, 2) or not np.allclose(got, np.flip(expected), rtol=rtol, atol=atol):
        return None
    if got.ndim == 1:
        return (
            "The result is the expected one in reverse order: "
            "was the input or the output reversed instead of the kernel?"
        )
    return (
        "The result is the expected one rotated by 180 degrees (flipped upside down "
        "and left to right): was the image or the output flipped instead of the kernel?"
    )


def _transpose_pattern(got, expected, rtol, atol):
    if got.ndim != 2 or got.shape != expected.T.shape or not np.allclose(got, expected.T, rtol=rtol, atol=atol):
        return None
    return (
        "The result is the transpose of the expected one: rows and columns swapped, "
        "for example [j, i] written where [i, j] was meant?"
    )


def _shift_pattern(got, expected, rtol, atol):
    """Spot values that sit one position away from where they belong."""
    for axis, length in enumerate(got.shape):
        if length < 3:
            continue  # an overlap of one slice matches by chance too easily
        # step +1: got[i] holds expected[i - 1]; step -1: got[i] holds expected[i + 1]
        for step, got_range, source_range in ((1, (1, length), (0, length - 1)),
                                              (-1, (0, length - 1), (1, length))):
            got_part = _slice_along(got, axis, *got_range)
            shifted = _slice_along(expected, axis, *source_range)
            unshifted = _slice_along(expected, axis, *got_range)
            # Where the reference itself repeats along this axis, a match says nothing.
            if np.allclose(got_part, unshifted, rtol=rtol, atol=atol):
                continue
            if np.allclose(got_part, shifted, rtol=rtol, atol=atol):
                sign = "-" if step == 1 else "+"
                return (
                    f"The values are shifted by one position along axis {axis}"
                    f"{_axis_label(axis, got.ndim)}: your value at index i along that axis "
                    f"equals the expected value at index i {sign} 1 (compared where the two "
                    "overlap). An index off by one?"
                )
    return None


def _offset_pattern(got, expected, rtol, atol):
    offset = float(np.mean(got - expected))
    if not np.isfinite(offset) or offset == 0:
        return None
    if not np.allclose(got, expected + offset, rtol=rtol, atol=atol):
        return None
    direction = "more" if offset > 0 else "less"
    return (
        f"Every value is {_format_number(abs(offset), 6)} {direction} than the expected one: "
        "a constant offset, such as a bias added twice or left out?"
    )


def _factor_pattern(got, expected, rtol, atol):
    reference_energy = float(np.dot(expected.ravel(), expected.ravel()))
    if not np.isfinite(reference_energy) or reference_energy == 0:
        return None
    # The least-squares factor; exact whenever got really is a multiple.
    factor = float(np.dot(got.ravel(), expected.ravel())) / reference_energy
    factor_text = _format_number(factor, 6)
    if not np.isfinite(factor) or factor_text in ("0", "1", "-1"):
        return None  # zero and the sign flip have their own messages
    if not np.allclose(got, factor * expected, rtol=rtol, atol=atol):
        return None
    return (
        f"Every value is {factor_text} times the expected one: a scaling factor, "
        "such as a sum where a mean was asked for (or the other way round)?"
    )


# Tried in order; the first that fits is reported.
_VALUE_PATTERNS = (
    _all_zero_pattern,
    _opposite_sign_pattern,
    _reversed_pattern,
    _transpose_pattern,
    _shift_pattern,
    _offset_pattern,
    _factor_pattern,
)


def _likely_pattern(got, expected, rtol, atol):
    """Name a systematic difference between two real arrays of equal shape."""
    if got.size < 2 or got.dtype.kind == "c":
        return None
    if not (np.all(np.isfinite(got)) and np.all(np.isfinite(expected))):
        return None
    for pattern in _VALUE_PATTERNS:
        try:
            explanation = pattern(got, expected, rtol, atol)
        except Exception:  # a hint is a bonus: it must never hide the real message
            explanation = None
        if explanation:
            return explanation
    return None


def _mismatch_details(got, expected, got_values, expected_values, mismatch) -> list:
    """Count the mismatches, name the largest, and list the first few."""
    n_wrong = int(np.count_nonzero(mismatch))
    verb = "differs" if n_wrong == 1 else "differ"
    lines = [f"{n_wrong} of {mismatch.size} values {verb} from the expected ones."]

    difference = np.abs(got_values - expected_values)
    comparable = mismatch & ~np.isnan(difference)
    if comparable.any():
        largest = np.unravel_index(
            np.argmax(np.where(comparable, difference, -np.inf)), mismatch.shape
        )
        lines.append(
            f"Largest absolute difference: {_format_number(difference[largest])}"
            f"{_where(largest)} (expected {_format_number(expected[largest])}, "
            f"got {_format_number(got[largest])})."
        )

    positions = [tuple(p) for p in np.argwhere(mismatch)[:_MAX_LISTED]]
    if n_wrong > _MAX_LISTED:
        lines.append(f"The first {_MAX_LISTED} of them:")
    else:
        lines.append("Where they differ:")
    for position in positions:
        lines.append(
            f"  {_format_position(position)}: expected {_format_number(expected[position])}, "
            f"got {_format_number(got[position])}"
        )
    return lines


def _known_mistake(got, likely_mistakes, rtol, atol):
    """The description of the first known mistake whose result ``got`` equals, or None."""
    for description, result in (likely_mistakes or {}).items():
        result = np.asarray(result)
        if result.shape == got.shape and np.allclose(got, result, rtol=rtol, atol=atol):
            return f"It equals {description}."
    return None


def _value_message(name, got, expected, rtol, atol, likely_mistakes=None):
    """Explain how the values differ, or return None when they match."""
    non_finite = _non_finite_message(name, got, expected)
    if non_finite:
        return non_finite
    mismatch = _mismatch_mask(got, expected, rtol, atol)
    if not mismatch.any():
        return None

    integer_lines = _integer_dtype_lines(name, got, expected)
    if got.ndim == 0:
        headline = f"{name} is {_format_number(got[()])} but should be {_format_number(expected[()])}."
        return "\n".join([headline] + integer_lines)

    common = np.result_type(got.dtype, expected.dtype, np.float64)
    got_values, expected_values = got.astype(common), expected.astype(common)
    if integer_lines:
        lines = integer_lines
    else:
        lines = [f"{name} has the expected shape {_format_shape(got.shape)} but different values."]
        pattern = (_known_mistake(got_values, likely_mistakes, rtol, atol)
                   or _likely_pattern(got_values, expected_values, rtol, atol))
        if pattern:
            lines.append(pattern)
    lines += _mismatch_details(got, expected, got_values, expected_values, mismatch)
    return "\n".join(lines)


# ---------------------------------------------------------------------------
# Numbers
# ---------------------------------------------------------------------------


def _student_number(got, name):
    """Turn a student's result into one Python number, or fail with the reason."""
    __tracebackhide__ = True  # IPython shows the student's call, not this helper's frames
    if got is None:
        raise AssertionError(_missing_return_message(name))
    if isinstance(got, (bool, np.bool_)):
        raise AssertionError(
            f"{name} is the bool {bool(got)}, but a number was expected. "
            "A comparison such as a == b gives a bool; is a calculation missing?"
        )
    if isinstance(got, numbers.Number):
        return got.item() if isinstance(got, np.generic) else got
    if isinstance(got, str):
        return _fail_not_number(name, f"a str ({_short_repr(got)})")
    if isinstance(got, (list, tuple)):
        hint = " Take the number out with [0]." if len(got) == 1 else ""
        return _fail_not_number(name, f"a {type(got).__name__} of length {len(got)}", hint)
    if _is_tensor_like(got) or isinstance(got, np.ndarray):
        array = _student_array(got, name)  # also explains a tensor NumPy cannot hold
        if array.ndim == 0 and array.dtype.kind in _NUMERIC_KINDS:
            return _student_number(array[()], name)
        if array.ndim > 0:
            hint = " Take the number out with .item()." if array.size == 1 else ""
            return _fail_not_number(
                name, f"an array of shape {_format_shape(array.shape)}", hint
            )
    return _fail_not_number(name, _describe_type(got))


def _fail_not_number(name, description, hint=""):
    __tracebackhide__ = True  # IPython shows the student's call, not this helper's frames
    raise AssertionError(f"{name} is {description}, but a single number was expected.{hint}")


def _reference_number(expected):
    """Turn the reference into one Python number; a bad one is the author's bug."""
    if _is_tensor_like(expected):
        expected = _tensor_to_numpy(expected)
    if isinstance(expected, np.ndarray) and expected.ndim == 0:
        expected = expected[()]
    if isinstance(expected, np.generic):
        expected = expected.item()
    if not isinstance(expected, numbers.Number):
        raise TypeError(f"expected must be a number, not {type(expected).__name__}")
    return expected


def _numbers_match(got, expected, rtol, atol) -> bool:
    """Compare like ``np.isclose``: ``|got - expected| <= atol + rtol * |expected|``."""
    if got == expected:
        return True
    if isinstance(got, numbers.Integral) and isinstance(expected, numbers.Integral):
        return False  # whole numbers carry no rounding error to forgive
    try:
        if got != got and expected != expected:
            return True  # both NaN: the reference asks for NaN, and got it
        return abs(got - expected) <= atol + rtol * abs(expected)
    except OverflowError:  # an int too large for a float cannot be close to one
        return False


# ---------------------------------------------------------------------------
# Public checks
# ---------------------------------------------------------------------------


def check_array(got, expected, name="result", *, rtol=1e-6, atol=1e-8, shape_hint=None,
                array_only=True, likely_mistakes=None):
    """Check an array against a reference and explain any difference.

    Introduced in notebook 01_convolutions.

    The checks run in order and the first failure is reported: nothing
    returned, not an array of numbers, wrong shape, NaN or inf, then wrong
    values. For wrong values the message first names a likely cause when
    the difference is systematic (opposite sign, rotated by 180 degrees,
    transposed, shifted by one, a constant offset or factor, an integer
    dtype that dropped the fractions), then counts the mismatches, gives
    the largest difference and lists the first few positions.

    Parameters
    ----------
    got : object
        What the student's code returned. Anything array-like of numbers is
        accepted, including a torch tensor of shape ``expected.shape``,
        which is copied to NumPy first.
    expected : array_like
        The reference result, of any shape (0-d, 1-d, 2-d, n-d); int,
        float, complex or bool.
    name : str, optional
        What to call the result in the message, e.g. ``"conv2d(X, K)"``.
    rtol, atol : float, optional
        Relative and absolute tolerance, as in ``np.allclose``. When both
        arrays hold integers or bools the comparison is exact.
    shape_hint : str, optional
        A sentence appended to a shape mismatch message, e.g. a reminder of
        the output-size formula.
    array_only : bool, optional
        Refuse a list or tuple (the default): the notebooks' functions promise
        arrays, and code that indexes the result as ``Y[i, j]`` fails on a list.
    likely_mistakes : dict of str to array_like, optional
        What known mistakes would return, by a description that completes
        "It equals ...", e.g. ``{"the correlation (the kernel was not flipped)":
        correlate2d(X, K)}``. A result equal to one of them is named before the
        generic patterns.

    Returns
    -------
    None
        Always None, so a notebook test cell shows no value.

    Raises
    ------
    AssertionError
        When ``got`` is not an array of numbers equal to ``expected``
        within the tolerances. The message starts with ``name``.
    TypeError
        When ``expected`` itself does not hold numbers.

    Examples
    --------
    >>> check_array(np.array([[1, 2], [3, 4]]), [[1, 2], [3, 4]])
    >>> check_array(np.array([[1, 2], [3, 4]]), [[1, 2], [3, 5]], name="Y")
    Traceback (most recent call last):
        ...
    AssertionError: Y has the expected shape (2, 2) but different values.
    1 of 4 values differs from the expected ones.
    Largest absolute difference: 1 at [1, 1] (expected 5, got 4).
    Where they differ:
      [1, 1]: expected 5, got 4
    """
    __tracebackhide__ = True  # IPython shows the student's call, not this helper's frames
    expected_array = _reference_array(expected)
    if array_only and isinstance(got, (list, tuple)):
        raise AssertionError(
            f"{name} is {_describe_type(got)}, but a NumPy array was expected: "
            "build the result in an array (e.g. np.zeros((rows, cols))) or return np.array(...)."
        )
    got_array = _student_array(got, name)
    if got_array.shape != expected_array.shape:
        raise AssertionError(
            _shape_message(name, got_array.shape, expected_array.shape, shape_hint)
        )
    # Subtracting inf from inf and the like must not raise a RuntimeWarning.
    with np.errstate(all="ignore"):
        message = _value_message(name, got_array, expected_array, rtol, atol, likely_mistakes)
    if message is not None:
        raise AssertionError(message)


def check_scalar(got, expected, name="result", *, rtol=1e-9, atol=0.0):
    """Check a single number against a reference.

    Introduced in notebook 01_convolutions.

    Parameters
    ----------
    got : object
        What the student's code returned: an int, a float, a complex, a
        NumPy scalar, or a 0-d array or tensor. A bool is refused, as is a
        tuple, list or array of shape ``(n,)``, even for ``n == 1``.
    expected : number
        The reference value, or a 0-d array holding it.
    name : str, optional
        What to call the result in the message, e.g. ``"output_size(5, 3)"``.
    rtol, atol : float, optional
        Relative and absolute tolerance, as in ``np.isclose``. Two integers
        are compared exactly.

    Returns
    -------
    None
        Always None, so a notebook test cell shows no value.

    Raises
    ------
    AssertionError
        When ``got`` is not a number, or is not ``expected`` within the
        tolerances. The message starts with ``name``.
    TypeError
        When ``expected`` is not a number.

    Examples
    --------
    >>> check_scalar(3, 3)
    >>> check_scalar(4, 3, name="output_size(5, 3)")
    Traceback (most recent call last):
        ...
    AssertionError: output_size(5, 3) is 4 but should be 3.
    """
    __tracebackhide__ = True  # IPython shows the student's call, not this helper's frames
    number = _student_number(got, name)
    reference = _reference_number(expected)
    if not _numbers_match(number, reference, rtol, atol):
        raise AssertionError(
            f"{name} is {_format_number(number)} but should be {_format_number(reference)}."
        )


def check_shape(got, expected_shape, name="result", *, shape_hint=None):
    """Check only the shape of an array, for when the values are checked elsewhere.

    Introduced in notebook 01_convolutions.

    Parameters
    ----------
    got : object
        What the student's code returned; array-like of numbers or a torch
        tensor.
    expected_shape : tuple of int or int
        The shape ``got`` should have; an int ``n`` means ``(n,)``.
    name : str, optional
        What to call the result in the message.
    shape_hint : str, optional
        A sentence appended to a shape mismatch message, e.g. a reminder of
        the output-size formula.

    Returns
    -------
    None
        Always None, so a notebook test cell shows no value.

    Raises
    ------
    AssertionError
        When ``got`` is None, is not an array of numbers, or has another
        shape. The message starts with ``name``.

    Examples
    --------
    >>> check_shape(np.zeros((4, 4)), (4, 4))
    >>> check_shape(np.zeros((4, 4)), (3, 3), name="Y")
    Traceback (most recent call last):
        ...
    AssertionError: Y has shape (4, 4) but should have (3, 3).
    Each side is 1 too long: padding that was not asked for, or a loop that runs too far?
    """
    __tracebackhide__ = True  # IPython shows the student's call, not this helper's frames
    wanted_shape = _normalise_shape(expected_shape)
    got_array = _student_array(got, name)
    if got_array.shape != wanted_shape:
        raise AssertionError(_shape_message(name, got_array.shape, wanted_shape, shape_hint))


# Libraries a graded function must not hand its work to. The hidden tests use the same list.
FORBIDDEN_LIBRARIES = ("scipy", "torch", "skimage", "sklearn", "cv2", "helpers")


def check_numpy_only(function, *args, **kwargs):
    """Call ``function(*args, **kwargs)`` and fail if it used a library that does the work.

    Introduced in notebook 02_sobel_laplace. Graded functions must be written with NumPy (and
    Python): when graded, they run where SciPy, scikit-image, PyTorch, scikit-learn, OpenCV and
    ``helpers`` are not installed, so a function that calls one of them fails there. This visible
    check tells a student so at once, instead of after grading. It watches the calls made in this
    thread while ``function`` runs.

    Parameters
    ----------
    function : callable
        The student's function.
    *args, **kwargs
        Passed to ``function``.

    Returns
    -------
    object
        What ``function`` returned, so the result can be checked next.

    Raises
    ------
    AssertionError
        Naming the libraries that were used, if any.
    """
    import sys

    reached = set()

    def probe(frame, event, arg):
        if event == "call":
            module = str(frame.f_globals.get("__name__", ""))
        elif event == "c_call":
            module = str(getattr(arg, "__module__", None) or type(getattr(arg, "__self__", None)).__module__)
        else:
            return
        top = module.split(".")[0]
        if top in FORBIDDEN_LIBRARIES:
            reached.add(top)

    previous = sys.getprofile()
    sys.setprofile(probe)
    try:
        result = function(*args, **kwargs)
    finally:
        sys.setprofile(previous)
    if reached:
        name = getattr(function, "__name__", "the function")
        libraries = ", ".join(sorted(reached))
        raise AssertionError(
            f"{name} used {libraries}. Graded functions must do their work with NumPy only: "
            f"a function that hands it to {libraries} scores 0 when graded, even if its numbers are right."
        )
    return result
