# Correct, just unusual: float32 sliding windows and einsum, np.correlate row by row,
# and factors read off the largest row instead of the SVD's vectors. Full marks.
# scores: {"test_layer_shapes": 2, "test_digit_cnn": 2, "test_evaluate": 2, "test_train": 3, "test_accuracy": 2}

# %% layer_shapes
def _conv(shape, c_out, k, s, p):
    if len(shape) != 3:
        raise ValueError("conv needs an image")
    size = lambda n: (n + 2 * p - k) // s + 1
    return (c_out, size(shape[1]), size(shape[2])), c_out * (shape[0] * k ** 2 + 1)

def _pool(shape, m):
    if len(shape) != 3:
        raise ValueError("pool needs an image")
    return (shape[0], shape[1] // m, shape[2] // m), 0

def _linear(shape, n_out):
    if len(shape) != 1:
        raise ValueError("linear needs a vector")
    return (n_out,), n_out * shape[0] + n_out

_RULES = {"conv": _conv, "pool": _pool, "linear": _linear,
          "relu": lambda shape: (shape, 0),
          "flatten": lambda shape: ((int(np.prod(np.array(shape))),), 0)}

def layer_shapes(in_shape, spec):
    out, shape = [], tuple(in_shape)
    for kind, *args in spec:
        if kind not in _RULES:
            raise ValueError(f"unknown layer {kind}")
        shape, n = _RULES[kind](shape, *args)
        shape = tuple(int(v) for v in shape)
        if any(v < 1 for v in shape):
            raise ValueError("empty output")
        out.append((shape, int(n)))
    return out

# %% digit_cnn
class DigitCNN(nn.Module):
    def __init__(self, c1=32, c2=64, n_classes=10):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, c1, kernel_size=(3, 3), padding=(1, 1)), nn.ReLU(inplace=True), nn.MaxPool2d(2, 2),
            nn.Conv2d(c1, c2, kernel_size=3, padding="same"), nn.ReLU(), nn.MaxPool2d(kernel_size=2),
        )
        self.classifier = nn.Sequential(nn.Flatten(), nn.Linear(c2 * 4, n_classes))

    def forward(self, x):
        return self.classifier(self.features(x))

# %% evaluate
def evaluate(model, loader):
    previous = model.training
    model.train(False)
    device = next(iter(model.parameters())).device
    losses, hits, seen = [], [], 0
    with torch.inference_mode():
        for x, y in loader:
            x, y = x.to(device), y.to(device)
            out = model(x)
            losses.append(nn.functional.cross_entropy(out, y, reduction="none"))
            hits.append(out.argmax(-1).eq(y))
    model.train(previous)
    return float(torch.cat(losses).mean()), float(torch.cat(hits).float().mean())

# %% train
def train(model, train_loader, val_loader, epochs, lr, label_smoothing=0.0, progress=None):
    criterion = nn.CrossEntropyLoss(label_smoothing=label_smoothing, reduction="sum")
    device = next(model.parameters()).device
    opt = torch.optim.Adam(model.parameters(), lr)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, lr, epochs=epochs, steps_per_epoch=len(train_loader))
    history = dict(train_loss=[], val_loss=[], val_accuracy=[])
    epochs_iter = progress(range(epochs)) if progress is not None else range(epochs)
    for epoch in epochs_iter:
        model.train()
        batches = iter(train_loader)
        summed, n = 0.0, 0
        while True:
            try:
                x, y = next(batches)
            except StopIteration:
                break
            x, y = x.to(device), y.to(device)
            for p in model.parameters():
                p.grad = None
            batch_sum = criterion(model(x), y)
            (batch_sum / len(y)).backward()
            opt.step()
            sched.step()
            summed += batch_sum.item()
            n += len(y)
        vl, va = evaluate(model, val_loader)
        history["train_loss"].append(summed / n)
        history["val_loss"].append(vl)
        history["val_accuracy"].append(va)
    return history
