"""Trusted tests of assignment ex04: one module per notebook, one test per grade_id."""

import importlib

#: notebook -> module holding its trusted tests.
MODULES = {
    "01_convolutions": "grading.ex04.nb01_convolutions",
    "02_sobel_laplace": "grading.ex04.nb02_sobel_laplace",
    "03_conv_backprop": "grading.ex04.nb03_conv_backprop",
    "04_receptive_field": "grading.ex04.nb04_receptive_field",
    "05_equivariance": "grading.ex04.nb05_equivariance",
    "06_pytorch_cnn": "grading.ex04.nb06_pytorch_cnn",
}


def load(notebook):
    """The test module of one notebook (imports it, which registers its tests)."""
    return importlib.import_module(MODULES[notebook])
