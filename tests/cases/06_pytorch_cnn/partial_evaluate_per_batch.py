# evaluate averages the per-batch means: wrong with an uneven last batch. It loses its own
# points only: train and the accuracy test run with a correct evaluate swapped in.
# scores: {"test_layer_shapes": 2, "test_digit_cnn": 2, "test_evaluate": 0, "test_train": 3, "test_accuracy": 2}

# %% layer_shapes
def layer_shapes(in_shape, spec):
    shape, rows = tuple(int(v) for v in in_shape), []
    for layer in spec:
        kind, params = layer[0], 0
        if kind in ("conv", "pool") and len(shape) != 3:
            raise ValueError(f"{kind} needs (C, H, W)")
        if kind == "conv":
            c_out, k, s, p = (int(v) for v in layer[1:])
            params = c_out * (shape[0] * k * k + 1)
            shape = (c_out, (shape[1] + 2 * p - k) // s + 1, (shape[2] + 2 * p - k) // s + 1)
        elif kind == "pool":
            shape = (shape[0], shape[1] // layer[1], shape[2] // layer[1])
        elif kind == "flatten":
            shape = (int(np.prod(shape)),)
        elif kind == "linear":
            if len(shape) != 1:
                raise ValueError("flatten first")
            params = layer[1] * (shape[0] + 1)
            shape = (layer[1],)
        elif kind != "relu":
            raise ValueError(kind)
        if min(shape) < 1:
            raise ValueError("too small")
        rows.append((shape, params))
    return rows

# %% digit_cnn
class DigitCNN(nn.Module):
    def __init__(self, c1=32, c2=64, n_classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(1, c1, 3, padding=1)
        self.conv2 = nn.Conv2d(c1, c2, 3, padding=1)
        self.fc = nn.Linear(4 * c2, n_classes)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        return self.fc(x.flatten(1))

# %% evaluate
def evaluate(model, loader):
    was = model.training
    model.eval()
    losses, accs = [], []
    with torch.no_grad():
        for images, labels in loader:
            logits = model(images)
            losses.append(F.cross_entropy(logits, labels).item())
            accs.append((logits.argmax(1) == labels).float().mean().item())
    model.train(was)
    return sum(losses) / len(losses), sum(accs) / len(accs)

# %% train
def train(model, train_loader, val_loader, epochs, lr, label_smoothing=0.0, progress=None):
    device = next(model.parameters()).device
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=lr, total_steps=epochs * len(train_loader))
    history = {"train_loss": [], "val_loss": [], "val_accuracy": []}
    for _ in (progress or (lambda r: r))(range(epochs)):
        model.train()
        total, count = 0.0, 0
        for images, labels in train_loader:
            images, labels = images.to(device), labels.to(device)
            optimizer.zero_grad()
            loss = F.cross_entropy(model(images), labels, label_smoothing=label_smoothing)
            loss.backward()
            optimizer.step()
            scheduler.step()
            total += loss.item() * len(labels)
            count += len(labels)
        val_loss, val_accuracy = evaluate(model, val_loader)
        history["train_loss"].append(total / count)
        history["val_loss"].append(val_loss)
        history["val_accuracy"].append(val_accuracy)
    return history
