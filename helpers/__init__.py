"""Tools behind the ex04 course unit on convolutional neural networks.

The package gives the notebooks their data, figures, widgets and checking tools. It never
contains the answer to a graded task: students can (and should) import it.

Submodules are imported on first use, so ``import helpers`` stays cheap (no matplotlib,
scipy or torch until a notebook asks for them):

``helpers.course``
    The preamble every notebook runs: seeds, print options, figure style, device.
``helpers.data``
    The exercise sheet's input image and filters (introduced in ``01_convolutions``).
``helpers.plotting``
    Annotated matrix plots and correlation diagrams (introduced in ``01_convolutions``).
``helpers.checking``
    Comparisons for visible tests that explain a mismatch (introduced in ``01_convolutions``).
``helpers.widgets``
    Interactive figures with a static fallback when no front end is attached (introduced in
    ``01_convolutions``; the kernel editor in ``02_sobel_laplace``).
``helpers.datasets``
    Real datasets as arrays, tensors and DataLoaders: scikit-learn's handwritten digits offline,
    and MNIST, Fashion-MNIST and CIFAR-10 from their standard files through the same call
    (introduced in ``05_equivariance``, used again in ``06_pytorch_cnn``).
``helpers.gradcheck``
    Numerical gradients and relative errors for checking backward passes (introduced in
    ``03_conv_backprop``).
``helpers.training``
    Progress bars, learning curves, confusion matrices, filter and feature-map figures, and
    saving and loading weights (introduced in ``06_pytorch_cnn``).
"""

import importlib

__version__ = "0.1.0"

_SUBMODULES = ("course", "data", "plotting", "checking", "widgets", "gradcheck", "datasets", "training")

__all__ = list(_SUBMODULES) + ["setup_notebook", "pick_device"]


def __getattr__(name):
    # PEP 562: load submodules lazily so that importing the package costs almost nothing.
    if name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    if name in ("setup_notebook", "pick_device"):
        return getattr(importlib.import_module(f"{__name__}.course"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))
