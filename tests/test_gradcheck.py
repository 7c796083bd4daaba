"""Tests for helpers.gradcheck: numerical gradients, relative errors and their printouts.

Every gradient is compared with one worked out by hand for a function whose derivative is
known, never with another numerical estimate.
"""

import doctest

import numpy as np
import pytest

from nbtools import heavy_modules_loaded_by
from helpers import gradcheck
from helpers.gradcheck import error_table, format_error, numerical_gradient, relative_error


class FakeTensor:
    """The part of a torch tensor's interface that gradcheck relies on."""

    def __init__(self, values):
        self.values = np.asarray(values)

    def detach(self):
        return self

    def cpu(self):
        return self

    def numpy(self):
        return self.values


# ------------------------------------------------------------------ numerical_gradient


def test_scalar_function_matches_its_analytic_gradient():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(3, 4))
    # f(x) = sum(sin(x) * x^2): df/dx = cos(x) x^2 + 2 x sin(x)
    got = numerical_gradient(lambda v: np.sum(np.sin(v) * v ** 2), x)
    expected = np.cos(x) * x ** 2 + 2 * x * np.sin(x)
    assert got.shape == x.shape and got.dtype == np.float64
    assert relative_error(got, expected) < 1e-9


def test_array_function_with_upstream_gradient_is_a_vector_jacobian_product():
    rng = np.random.default_rng(1)
    A = rng.normal(size=(5, 3))
    x = rng.normal(size=3)
    dout = rng.normal(size=5)
    # f(x) = A x, so the gradient of sum(dout * f(x)) is A^T dout, exactly.
    got = numerical_gradient(lambda v: A @ v, x, dout=dout)
    assert relative_error(got, A.T @ dout) < 1e-9


def test_gradient_with_respect_to_a_matrix_argument():
    rng = np.random.default_rng(2)
    W = rng.normal(size=(2, 3))
    x = rng.normal(size=3)
    dout = rng.normal(size=2)
    # f(W) = W x: the gradient of sum(dout * W x) with respect to W is the outer product.
    got = numerical_gradient(lambda M: M @ x, W, dout=dout)
    assert relative_error(got, np.outer(dout, x)) < 1e-9


def test_centred_differences_are_exact_for_quadratics():
    # For a quadratic the h^2 error term vanishes: only rounding is left.
    x = np.array([0.5, -1.5, 2.0])
    got = numerical_gradient(lambda v: 3 * v[0] ** 2 + v[1] * v[2], x)
    assert np.allclose(got, [3.0, 2.0, -1.5], rtol=0, atol=1e-9)


def test_error_shrinks_like_h_squared():
    x = np.array([0.7])
    exact = np.exp(0.7)
    errors = [abs(numerical_gradient(lambda v: np.exp(v[0]), x, h=h)[0] - exact) for h in (1e-2, 1e-3)]
    # Ten times smaller step, about a hundred times smaller error.
    assert 50 < errors[0] / errors[1] < 200


def test_zero_dimensional_input_and_scalar_dout():
    got = numerical_gradient(lambda v: v ** 3, np.array(2.0), dout=np.array(0.5))
    assert got.shape == () and abs(float(got) - 0.5 * 12.0) < 1e-8


def test_x_is_left_unchanged_even_if_f_modifies_its_argument():
    x = np.array([1.0, 2.0, 3.0])
    before = x.copy()

    def clobbering(v):
        total = np.sum(v ** 2)
        v[:] = 0  # bad manners: must not reach x or the next evaluation
        return total

    got = numerical_gradient(clobbering, x)
    assert np.array_equal(x, before)
    assert np.allclose(got, 2 * before)


def test_float32_input_is_accepted_and_computed_in_float64():
    x = np.array([1.0, 2.0], dtype=np.float32)
    seen = []
    got = numerical_gradient(lambda v: seen.append(v.dtype) or np.sum(v ** 2), x)
    assert set(seen) == {np.dtype(np.float64)}
    assert np.allclose(got, [2.0, 4.0])


def test_f_may_return_a_tensor_like_object():
    got = numerical_gradient(lambda v: FakeTensor(2 * v), np.array([1.0, 2.0]), dout=np.array([1.0, -1.0]))
    assert np.allclose(got, [2.0, -2.0])


def test_f_is_called_twice_per_entry_plus_once():
    calls = []
    numerical_gradient(lambda v: calls.append(1) or np.sum(v), np.zeros((2, 3)))
    assert len(calls) == 2 * 6 + 1


@pytest.mark.parametrize("x", [np.array([1, 2, 3]), np.array([True, False]), [1, 2]])
def test_integer_or_bool_input_is_refused_with_advice(x):
    with pytest.raises(TypeError, match=r"x must be an array of floats.*astype\(float\)"):
        numerical_gradient(lambda v: np.sum(v), x)


def test_complex_input_is_refused():
    with pytest.raises(TypeError, match="x must be an array of floats, not dtype complex128"):
        numerical_gradient(lambda v: np.sum(v), np.array([1j]))


def test_array_result_without_dout_is_refused():
    with pytest.raises(ValueError, match=r"f\(x\) is an array of shape \(3,\): pass dout"):
        numerical_gradient(lambda v: 2 * v, np.ones(3))


def test_dout_of_the_wrong_shape_is_refused():
    with pytest.raises(ValueError, match=r"dout has shape \(2,\) but f\(x\) has shape \(3,\)"):
        numerical_gradient(lambda v: 2 * v, np.ones(3), dout=np.ones(2))


@pytest.mark.parametrize("h", [0, -1e-5, float("nan"), "small"])
def test_bad_step_size_is_refused(h):
    with pytest.raises(ValueError, match="h must be a positive number"):
        numerical_gradient(lambda v: np.sum(v), np.ones(2), h=h)


def test_non_numeric_result_is_refused():
    with pytest.raises(TypeError, match=r"f\(x\) must hold real numbers"):
        numerical_gradient(lambda v: "a string", np.ones(2))


# ------------------------------------------------------------------ relative_error


def test_relative_error_definition():
    a = np.array([1.0, -2.0, 4.0])
    b = np.array([1.0, -2.5, 4.0])
    assert relative_error(a, b) == pytest.approx(0.5 / (4.0 + 4.0))


def test_relative_error_is_symmetric_scale_free_and_bounded():
    rng = np.random.default_rng(3)
    a, b = rng.normal(size=(4, 4)), rng.normal(size=(4, 4))
    assert relative_error(a, b) == relative_error(b, a)
    assert relative_error(1e6 * a, 1e6 * b) == pytest.approx(relative_error(a, b))
    assert 0 <= relative_error(a, b) <= 1
    assert relative_error(a, -a) == pytest.approx(1.0)


def test_relative_error_handles_zeros():
    assert relative_error(np.zeros(3), np.zeros(3)) == 0.0
    assert relative_error(np.zeros(3), np.array([0.0, 1e-30, 0.0])) == pytest.approx(1.0)
    assert relative_error(np.zeros((0, 2)), np.zeros((0, 2))) == 0.0


def test_relative_error_accepts_integers_scalars_and_tensors():
    assert relative_error([1, 2], [1, 2]) == 0.0
    assert relative_error(2.0, 2.0) == 0.0
    assert isinstance(relative_error(np.float32(1), 1.0), float)
    assert relative_error(FakeTensor([1.0, 3.0]), np.array([1.0, 3.0])) == 0.0


def test_relative_error_refuses_different_shapes():
    with pytest.raises(ValueError, match=r"cannot compare arrays of shapes \(3, 3\) and \(9,\)"):
        relative_error(np.ones((3, 3)), np.ones(9))


def test_relative_error_refuses_non_numbers():
    with pytest.raises(TypeError, match="a must hold real numbers"):
        relative_error(["x", "y"], [1.0, 2.0])


# ------------------------------------------------------------------ printing


@pytest.mark.parametrize(
    "error, text",
    [(0.0, "< 1e-13"), (3e-17, "< 1e-13"), (1e-13, "< 1e-8"), (1e-12, "< 1e-8"), (4e-10, "< 1e-8"), (9.99e-6, "< 1e-5"),
     (1e-5, "1.0e-05"), (0.03125, "3.1e-02"), (1.0, "1.0e+00"), (float("nan"), "nan")],
)
def test_format_error(error, text):
    assert format_error(error) == text


def test_format_error_with_own_bounds():
    assert format_error(2e-7, bounds=(1e-6,)) == "< 1e-6"
    assert format_error(2e-7, bounds=(1e-3, 1e-6)) == "< 1e-6"  # order does not matter
    assert format_error(2e-5, bounds=(1e-6,)) == "2.0e-05"


def test_error_table_layout():
    table = error_table(
        {"dX": {"yours vs torch": 1e-17, "yours vs numerical": 3e-11},
         "dW": {"yours vs torch": 0.25, "yours vs numerical": 0.25}},
        row_label="gradient",
    )
    assert table.splitlines() == [
        "gradient   yours vs torch   yours vs numerical",
        "dX         < 1e-13          < 1e-8",
        "dW         2.5e-01          2.5e-01",
    ]


def test_error_table_refuses_ragged_or_empty_input():
    with pytest.raises(ValueError, match="row 'b' has columns"):
        error_table({"a": {"x": 0.0}, "b": {"y": 0.0}})
    with pytest.raises(ValueError, match="errors is empty"):
        error_table({})


# ------------------------------------------------------------------ module


def test_docstring_examples_hold():
    result = doctest.testmod(gradcheck)
    assert result.attempted >= 8 and result.failed == 0


def test_import_loads_no_heavy_library():
    assert heavy_modules_loaded_by("helpers.gradcheck") == []
