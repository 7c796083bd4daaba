"""Numerical gradients and relative errors, for checking backward passes.

Introduced in ``03_conv_backprop``. A backward pass is easy to get almost right: a sign, a
flipped kernel or a forgotten stride still gives numbers of the right shape. The tools here
check it against the definition of the derivative, with no knowledge of what is being
differentiated:

* :func:`numerical_gradient` nudges every entry of the input up and down by a small step and
  watches the output (centred finite differences);
* :func:`relative_error` compares two gradients with one scale-free number;
* :func:`format_error` and :func:`error_table` print such numbers the same way on every
  machine.

The module knows nothing about convolutions, so it contains no answer to a graded task. Only
NumPy is imported.
"""

from __future__ import annotations

import numbers

import numpy as np

__all__ = ["numerical_gradient", "relative_error", "format_error", "error_table"]

#: Bounds used by :func:`format_error`: an error below one of them is printed as ``< bound``.
ERROR_BOUNDS = (1e-13, 1e-8, 1e-5)


def _as_numpy(value, name):
    """Turn an array-like or a torch tensor into a NumPy array (torch is not imported)."""
    if hasattr(value, "detach") and hasattr(value, "numpy"):
        value = value.detach()
        if hasattr(value, "cpu"):
            value = value.cpu()
        value = value.numpy()
    array = np.asarray(value)
    if array.dtype.kind not in "biuf":
        raise TypeError(f"{name} must hold real numbers, not dtype {array.dtype}")
    return array


def numerical_gradient(f, x, dout=None, h=1e-5):
    """Estimate the gradient of ``f`` at ``x`` by centred finite differences.

    For a function with a scalar result, entry ``k`` of the gradient is estimated as

    ``(f(x + h e_k) - f(x - h e_k)) / (2 h)``,

    where ``e_k`` is the array with a 1 at position ``k`` and zeros elsewhere. The error of this
    estimate shrinks like ``h**2`` (the first-order error terms of the two sides cancel), until
    rounding takes over for very small ``h``; ``h = 1e-5`` suits float64 inputs and results
    of order 1.

    For a function with an array result, pass the upstream gradient ``dout`` (what a backward
    pass receives): the result is then the gradient of the scalar ``sum(dout * f(x))``, which
    is exactly what a backward pass returns for that ``dout``.

    Parameters
    ----------
    f : callable
        Takes an array of the shape of ``x`` and returns a number, or an array of the shape
        of ``dout``. It receives a fresh float64 copy on each call, so it may modify its input
        without harm. It is called ``2 * x.size + 1`` times.
    x : array_like of float
        Where to take the gradient. Integer arrays are refused: the gradient of a function
        of integers is not defined, and a nudge of ``h`` could not be stored in one.
    dout : array_like, optional
        Upstream gradient, of the same shape as ``f(x)``. Required when ``f`` returns an
        array with more than one entry.
    h : float, optional
        Step size, greater than 0.

    Returns
    -------
    numpy.ndarray of float64, shape ``x.shape``

    Raises
    ------
    TypeError
        When ``x`` does not hold floating-point numbers, or ``f`` returns something that is
        not numeric.
    ValueError
        When ``h <= 0``, when ``dout`` does not have the shape of ``f(x)``, or when ``f``
        returns an array and no ``dout`` was given.

    Examples
    --------
    >>> numerical_gradient(lambda v: np.sum(v ** 2), np.array([1.0, -2.0]))
    array([ 2., -4.])
    >>> numerical_gradient(lambda v: 3 * v, np.array([1.0, 2.0]), dout=np.array([1.0, 10.0]))
    array([ 3., 30.])
    """
    if not isinstance(h, numbers.Real) or not h > 0:
        raise ValueError(f"h must be a positive number, not {h!r}")
    x_array = np.asarray(x)
    if x_array.dtype.kind != "f":
        raise TypeError(
            f"x must be an array of floats, not dtype {x_array.dtype}: convert it first, "
            "e.g. x.astype(float) (a nudge of h cannot be stored in an integer array)"
        )
    x_array = x_array.astype(np.float64)  # always a copy

    first = _as_numpy(f(x_array.copy()), "f(x)")
    if dout is None:
        if first.size != 1:
            raise ValueError(
                f"f(x) is an array of shape {first.shape}: pass dout, the upstream gradient "
                "of that shape, to say which scalar to differentiate (sum(dout * f(x)))"
            )
        weights = np.ones(first.shape)
    else:
        weights = _as_numpy(dout, "dout").astype(np.float64)
        if weights.shape != first.shape:
            raise ValueError(f"dout has shape {weights.shape} but f(x) has shape {first.shape}")

    gradient = np.zeros(x_array.shape)
    for index in np.ndindex(x_array.shape):
        plus, minus = x_array.copy(), x_array.copy()
        plus[index] += h
        minus[index] -= h
        f_plus = _as_numpy(f(plus), "f(x)").astype(np.float64)
        f_minus = _as_numpy(f(minus), "f(x)").astype(np.float64)
        gradient[index] = np.sum(weights * (f_plus - f_minus)) / (2 * h)
    return gradient


def relative_error(a, b):
    """How far apart two arrays are, relative to their size: one number between 0 and 1.

    Defined as ``max |a - b| / (max |a| + max |b|)`` over all entries, and 0 when both arrays
    are all zero. It does not change when both arrays are scaled by the same factor, an entry
    that is zero in both arrays causes no division by zero, and it is 1 when ``b == -a``.
    As a rule of thumb for float64: around 1e-16 the two agree to rounding, around 1e-11 to
    1e-9 is what centred finite differences achieve, above 1e-5 something is wrong.

    (CS231n uses the entry-wise ``|a - b| / max(|a|, |b|)``, which blows up where both
    gradients are tiny; dividing by the largest entries avoids that.)

    Parameters
    ----------
    a, b : array_like of real numbers, or torch tensors
        The same shape (a scalar is a 0-d array).

    Returns
    -------
    float

    Raises
    ------
    ValueError
        When the shapes differ.
    TypeError
        When either holds something other than real numbers.

    Examples
    --------
    >>> relative_error([1.0, 2.0], [1.0, 2.0])
    0.0
    >>> relative_error([1.0, -3.0], [1.0, 3.0])
    1.0
    >>> relative_error([0.0, 0.0], [0.0, 0.0])
    0.0
    """
    a_array = _as_numpy(a, "a").astype(np.float64)
    b_array = _as_numpy(b, "b").astype(np.float64)
    if a_array.shape != b_array.shape:
        raise ValueError(f"cannot compare arrays of shapes {a_array.shape} and {b_array.shape}")
    if a_array.size == 0:
        return 0.0
    scale = np.max(np.abs(a_array)) + np.max(np.abs(b_array))
    if scale == 0:
        return 0.0
    return float(np.max(np.abs(a_array - b_array)) / scale)


def _bound_text(bound):
    """``1e-08`` as ``1e-8``."""
    mantissa, exponent = f"{bound:.0e}".split("e")
    return f"{mantissa}e{int(exponent)}"


def format_error(error, bounds=ERROR_BOUNDS):
    """Write a relative error so that it reads the same on every machine.

    Digits far below the precision of a calculation are rounding noise: they change with the
    CPU, the BLAS library and the number of threads. A notebook's printouts must not, so an
    error below one of ``bounds`` is written as ``"< bound"`` (the smallest bound above it);
    a larger error, which means a real difference, is written with two significant digits.

    Parameters
    ----------
    error : float
        A non-negative error, e.g. from :func:`relative_error`.
    bounds : sequence of float, optional
        Bounds, in any order; by default 1e-13 (agreement to rounding, which in float64 is
        about 1e-16), 1e-8 (what centred finite differences achieve, about 1e-11 for
        well-scaled inputs) and 1e-5. Rounding noise varies between machines by a small
        factor, so keep each bound a few orders of magnitude away from the errors you print.

    Returns
    -------
    str

    Examples
    --------
    >>> format_error(3e-17)
    '< 1e-13'
    >>> format_error(2.5e-10)
    '< 1e-8'
    >>> format_error(0.03125)
    '3.1e-02'
    """
    error = float(error)
    if not np.isfinite(error):
        return str(error)
    for bound in sorted(bounds):
        if error < bound:
            return f"< {_bound_text(bound)}"
    return f"{error:.1e}"


def error_table(errors, row_label="", bounds=ERROR_BOUNDS):
    """A small text table of relative errors, written with :func:`format_error`.

    Parameters
    ----------
    errors : dict of str to dict of str to float
        One entry per row (e.g. ``"dX"``); each maps a column title (e.g.
        ``"yours vs autograd"``) to an error. Every row must have the same columns.
    row_label : str, optional
        Title of the first column.
    bounds : sequence of float, optional
        Passed to :func:`format_error`.

    Returns
    -------
    str
        Lines joined by newlines; print it.

    Raises
    ------
    ValueError
        When ``errors`` is empty or its rows have different columns.

    Examples
    --------
    >>> print(error_table({"dK": {"a vs b": 1e-17, "a vs c": 0.5}}, row_label="gradient"))
    gradient   a vs b    a vs c
    dK         < 1e-13   5.0e-01
    """
    if not errors:
        raise ValueError("errors is empty: nothing to tabulate")
    rows = list(errors)
    columns = list(errors[rows[0]])
    for row in rows:
        if list(errors[row]) != columns:
            raise ValueError(f"row {row!r} has columns {list(errors[row])}, expected {columns}")
    cells = [[row] + [format_error(errors[row][column], bounds) for column in columns] for row in rows]
    header = [row_label] + columns
    widths = [max(len(line[i]) for line in [header] + cells) for i in range(len(header))]
    lines = ["   ".join(text.ljust(width) for text, width in zip(line, widths)).rstrip()
             for line in [header] + cells]
    return "\n".join(lines)
