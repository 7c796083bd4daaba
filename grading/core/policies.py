"""Library policies: what the student's code can import in a job's sandbox, one :class:`Policy` each.

A trusted test names its policy (:func:`grading.core.testing.test`); everything the engine and
the sandbox do differently for it is read from the :class:`Policy` here: the trusted lines run
first, the site-packages bound into the sandbox, the libraries that must be absent, and the
threads of PyTorch. The test furniture built inside a policy's sandbox is the assignment's
(:attr:`grading.core.assignment.Assignment.fixtures`, by policy name), not the engine's.
"""

import dataclasses

from helpers.checking import FORBIDDEN_LIBRARIES

#: Packages that could do a graded function's work without being on the students' list
#: (:data:`helpers.checking.FORBIDDEN_LIBRARIES`): absent from every sandbox too.
ALSO_FORBIDDEN = ("torchvision", "PIL", "numba")


@dataclasses.dataclass(frozen=True)
class Policy:
    """One library policy.

    Attributes
    ----------
    name : str
        What a test names ("numpy", "torch").
    prelude : tuple of str
        Trusted lines the sandbox runs before the student's cells (the notebook's imports).
    packages : tuple of str
        Entries of the grader's site-packages bound read-only into the sandbox (at ``/sbx/site``):
        the only third-party code the student's code can import.
    forbidden : tuple of str
        Libraries a graded function must not use: none may exist inside the sandbox
        (tests/test_sandbox.py walks its whole file system to prove it).
    threads : int
        Threads of PyTorch's own pool in the sandbox (``torch.set_num_threads``); 0 leaves PyTorch
        unimported by the set-up.
    """

    name: str
    prelude: tuple
    packages: tuple
    forbidden: tuple
    threads: int = 0


NUMPY = Policy(
    name="numpy",
    prelude=("import numpy as np",),
    packages=("numpy", "numpy.libs"),
    forbidden=(*FORBIDDEN_LIBRARIES, *ALSO_FORBIDDEN),
)

TORCH = Policy(
    name="torch",
    # torch._dynamo last: torch.optim imports it on an optimizer's first step (about 1 s), which every test
    # that trains would pay again in its own copy of the set-up.
    prelude=("import numpy as np", "import torch", "import torch.nn.functional as F", "from torch import nn",
             "from torch.utils.data import DataLoader, TensorDataset", "device = torch.device('cpu')",
             "import torch._dynamo"),
    # PyTorch and the pure-Python packages it imports.
    packages=("numpy", "numpy.libs", "torch", "torch.libs", "torchgen", "typing_extensions.py", "sympy", "mpmath",
              "networkx", "jinja2", "markupsafe", "filelock", "fsspec"),
    forbidden=(*(name for name in FORBIDDEN_LIBRARIES if name != "torch"), *ALSO_FORBIDDEN),
    threads=1,
)

#: Every policy, by name.
POLICIES = {policy.name: policy for policy in (NUMPY, TORCH)}


def policy_named(policy):
    """The :class:`Policy` called ``policy`` (a Policy is returned as it is).

    Raises
    ------
    ValueError
        For a name that is not one of :data:`POLICIES`.
    """
    if isinstance(policy, Policy):
        return policy
    if policy not in POLICIES:
        raise ValueError(f"unknown policy {policy!r}; one of {', '.join(POLICIES)}")
    return POLICIES[policy]
