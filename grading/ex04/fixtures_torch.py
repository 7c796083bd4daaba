"""Test furniture built inside a PyTorch sandbox: loaders, small networks, recorders, read-outs.

The trusted side asks for these by name, ``student.fixture("loader", images, labels, 32, True, 0)``,
and gets the object back as a handle; it imports this module too, so that the same code builds
identical objects on both sides (the same seeds give the same weights and the same batches, on
one thread). This module runs next to the student's code: it imports only PyTorch (the
standard library and NumPy at most), and it never reads the student's namespace.

Notebook 06 (a CNN in PyTorch) is the one that uses it. Correct versions of graded functions
are not here: they live in grading/reference_*.py, which a sandbox receives only for a test that
needs them and that does not grade the function they stand in for.
"""

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader, TensorDataset


# ------------------------------------------------------------------------------ the RNG, data

def manual_seed(seed):
    """``torch.manual_seed(seed)`` in the sandbox (before the student builds a model)."""
    torch.manual_seed(int(seed))


def loader(images, labels, batch_size, shuffle=False, seed=None):
    """A DataLoader over (images, labels); a shuffling one has its own generator seeded by ``seed``.

    The same as ``helpers.datasets``' loaders (and the test cells' ``DataLoader(TensorDataset(...),
    batch_size=..., shuffle=..., generator=torch.Generator().manual_seed(seed))``).
    """
    images, labels = torch.as_tensor(images), torch.as_tensor(labels)
    generator = torch.Generator().manual_seed(int(seed)) if seed is not None else None
    return DataLoader(TensorDataset(images, labels), batch_size=int(batch_size), shuffle=bool(shuffle),
                      generator=generator, num_workers=0)


def _random_shift(images, max_shift, generator):
    # The notebook's random_shift: each image of (B, 1, H, W) moved by its own offset, zero filled.
    B, _, H, W = images.shape
    padded = F.pad(images, (max_shift,) * 4)
    rows = torch.randint(0, 2 * max_shift + 1, (B, 1), generator=generator) + torch.arange(H)    # (B, H)
    cols = torch.randint(0, 2 * max_shift + 1, (B, 1), generator=generator) + torch.arange(W)    # (B, W)
    return padded[torch.arange(B)[:, None, None], 0, rows[:, :, None], cols[:, None, :]][:, None]


class ShiftedBatches:
    """The notebook's ShiftedBatches: a loader's batches, every image moved by up to max_shift pixels."""

    def __init__(self, loader, max_shift=1, seed=0):
        self.loader, self.max_shift = loader, int(max_shift)
        self.generator = torch.Generator().manual_seed(int(seed))

    def __len__(self):
        return len(self.loader)

    def __iter__(self):
        for images, labels in self.loader:
            yield _random_shift(images, self.max_shift, self.generator), labels


def shifted_batches(loader, max_shift=1, seed=0):
    """``ShiftedBatches(loader, max_shift, seed)`` as in section 7 of the notebook."""
    return ShiftedBatches(loader, max_shift, seed)


# ------------------------------------------------------------------------------ models

def dropout_model(seed=1):
    """The visible test of evaluate's model: flatten, dropout 0.5, a confident linear layer."""
    torch.manual_seed(int(seed))
    model = nn.Sequential(nn.Flatten(), nn.Dropout(0.5), nn.Linear(64, 10))
    with torch.no_grad():
        model[2].weight.mul_(20)
    return model


class Probe(nn.Module):
    """Dropout and batch norm (the mode matters), and a record of whether gradients were tracked."""

    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(1, 3, 3), nn.BatchNorm2d(3), nn.ReLU(), nn.Flatten(), nn.Dropout(0.4),
                                  nn.Linear(108, 10))
        self.grad_seen = []

    def forward(self, x):
        self.grad_seen.append(torch.is_grad_enabled())
        return self.body(x)


def probe_model(images, seed=606):
    """A Probe with non-trivial batch-norm statistics (three passes over random digits) and a confident head."""
    images = torch.as_tensor(images)
    torch.manual_seed(int(seed))
    model = Probe()
    model.train()
    with torch.no_grad():
        for _ in range(3):
            model(images[torch.randperm(len(images))[:64]] * 1.5)
        model.body[5].weight.mul_(6)
    model.grad_seen = []
    return model


def clear_record(model):
    """Forget what a Probe recorded."""
    model.grad_seen = []


def linear_model(seed=0):
    """An untrained flatten + linear model for 8 x 8 images."""
    torch.manual_seed(int(seed))
    return nn.Sequential(nn.Flatten(), nn.Linear(64, 10))


class Oracle(nn.Module):
    """Always right, and sure: the image's first pixel is its label."""

    def __init__(self):
        super().__init__()
        self.scale = nn.Parameter(torch.tensor(50.0))

    def forward(self, x):
        return self.scale * F.one_hot(x.flatten(1)[:, 0].long(), 10).float()


def oracle_model():
    return Oracle()


class Net(nn.Module):
    """Batch norm: a loop that forgets model.train() after validating trains in the wrong mode."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 6, 3, padding=1, bias=False)     # a bias before batch norm gets no real gradient
        self.norm = nn.BatchNorm2d(6)
        self.fc = nn.Linear(6 * 16, 10)

    def forward(self, x):
        return self.fc(F.max_pool2d(F.relu(self.norm(self.conv(x))), 2).flatten(1))


def bn_net(seed):
    """A Net built after ``torch.manual_seed(seed)``, in evaluation mode (train must switch itself)."""
    torch.manual_seed(int(seed))
    model = Net()
    model.eval()
    return model


# ------------------------------------------------------------------------------ recorders

class Progress:
    """Records how ``progress`` was called (len of its argument) and how many items were used."""

    def __init__(self, wrap=True):
        self.calls, self.yielded, self.wrap = [], 0, bool(wrap)

    def __call__(self, iterable, **kwargs):
        self.calls.append(len(iterable))
        if not self.wrap:
            return iterable

        def wrapped():
            for item in iterable:
                self.yielded += 1
                yield item
        return wrapped()


def progress_recorder(wrap=True):
    """A Progress: ``wrap=False`` hands the iterable back unchanged (the visible check's recorder)."""
    return Progress(wrap)


# ------------------------------------------------------------------------------ read-outs

def _array(tensor):
    return tensor.detach().cpu().numpy().copy()


def state_arrays(model):
    """``model.state_dict()`` as {name: NumPy array}: parameters and buffers."""
    return {str(k): _array(v) for k, v in model.state_dict().items() if isinstance(v, torch.Tensor)}


def parameter_arrays(model):
    """``model.named_parameters()`` as {name: NumPy array}."""
    return {str(k): _array(v) for k, v in model.named_parameters()}


def _pair(value):
    return tuple(int(v) for v in value) if isinstance(value, (tuple, list)) else value


def describe_modules(model):
    """Every module of ``model.modules()`` in order: its class, what it is, and a layer's settings.

    Returns
    -------
    list of dict
        ``name`` (as in ``named_modules``, the key prefix of its weights), ``type`` (class name),
        ``kind`` ("Conv2d", "Linear", "Dropout", "BatchNorm", "Softmax" or "other"), and for
        convolutions and linear layers ``weight`` (shape), ``bias`` (shape or None), for
        convolutions ``padding``, ``stride``, ``dilation``, ``groups``.
    """
    names = {id(m): n for n, m in model.named_modules()}
    rows = []
    for module in model.modules():
        row = {"name": names.get(id(module), ""), "type": type(module).__name__, "kind": "other"}
        if isinstance(module, (nn.Conv2d, nn.Linear)):
            row["kind"] = "Conv2d" if isinstance(module, nn.Conv2d) else "Linear"
            row["weight"] = tuple(int(v) for v in module.weight.shape)
            row["bias"] = None if module.bias is None else tuple(int(v) for v in module.bias.shape)
            if isinstance(module, nn.Conv2d):
                row.update(padding=_pair(module.padding), stride=_pair(module.stride),
                           dilation=_pair(module.dilation), groups=int(module.groups))
        elif isinstance(module, (nn.Dropout, nn.Dropout1d, nn.Dropout2d, nn.AlphaDropout)):
            row["kind"] = "Dropout"
        elif isinstance(module, (nn.BatchNorm1d, nn.BatchNorm2d)):
            row["kind"] = "BatchNorm"
        elif isinstance(module, (nn.Softmax, nn.LogSoftmax)):
            row["kind"] = "Softmax"
        rows.append(row)
    return rows


def is_module(obj):
    """Whether ``obj`` is a ``torch.nn.Module``."""
    return isinstance(obj, nn.Module)


def training_modes(model):
    """``m.training`` for every module of ``model.modules()``, in order."""
    return [bool(m.training) for m in model.modules()]


def forward(model, x):
    """``model(x)`` without gradient tracking."""
    with torch.no_grad():
        return model(torch.as_tensor(x))


def gradients(model, x):
    """Every parameter's gradient after ``model(x).sum().backward()`` ({name: array or None})."""
    for p in model.parameters():
        p.grad = None
    model(torch.as_tensor(x)).sum().backward()
    return {str(n): (None if p.grad is None else _array(p.grad)) for n, p in model.named_parameters()}


def load_parameters(model, arrays):
    """Overwrite the model's parameters, in order, with ``arrays`` (the trusted side's start values).

    Raises
    ------
    ValueError
        When the number or the shapes of the parameters differ.
    """
    parameters = list(model.parameters())
    if len(parameters) != len(arrays):
        raise ValueError(f"the model has {len(parameters)} parameter tensors, expected {len(arrays)}")
    with torch.no_grad():
        for parameter, array in zip(parameters, arrays):
            value = torch.as_tensor(array, dtype=parameter.dtype)
            if tuple(parameter.shape) != tuple(value.shape):
                raise ValueError(f"a parameter of shape {tuple(parameter.shape)}, expected {tuple(value.shape)}")
            parameter.copy_(value)
    return None
