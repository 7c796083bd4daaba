"""Assignment ex04, convolutional neural networks: its trusted tests, furniture and references.

One module of trusted tests per notebook, one test per ``grade_id``; ``fixtures_numpy`` and
``fixtures_torch`` are built inside the sandboxes of the two library policies; the
``reference_*`` modules hold correct versions of graded functions that some tests lend to the
student's other functions (see :func:`grading.core.testing.test`).
"""

from grading.core.assignment import Assignment

ASSIGNMENT = Assignment(
    notebooks={
        "01_convolutions": "nb01_convolutions",
        "02_sobel_laplace": "nb02_sobel_laplace",
        "03_conv_backprop": "nb03_conv_backprop",
        "04_receptive_field": "nb04_receptive_field",
        "05_equivariance": "nb05_equivariance",
        "06_pytorch_cnn": "nb06_pytorch_cnn",
    },
    fixtures={"numpy": "fixtures_numpy", "torch": "fixtures_torch"},
    # test_accuracy trains DigitCNN() for 40 epochs (about 8 s on one idle core), test_train twice for a few.
    seconds={("06_pytorch_cnn", "test_train"): 60.0, ("06_pytorch_cnn", "test_accuracy"): 120.0},
)
