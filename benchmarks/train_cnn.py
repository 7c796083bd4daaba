"""Reproduce the numbers of notebook 06_pytorch_cnn: training time per epoch and accuracy of the
digit CNN on the CPU (and on a GPU where there is one), next to the two baselines.

A benchmark, not a test: it prints a small markdown table and asserts nothing. Run it from the
repository's folder:

    python benchmarks/train_cnn.py                 # three seeds, CPU (and GPU if present)
    python benchmarks/train_cnn.py --seeds 0 --threads 2
    python benchmarks/train_cnn.py --split-seed 1 --variants 1   # another split of the digits, the recipe only

The model, the augmentation and the training loop are copies of the notebook's (benchmarks/ is
not the student package, so it may contain them); keep the hyperparameters below in step with
section 9 of the notebook. Every run is seeded: the accuracies repeat exactly on the same machine
and thread count; the times do not, and they depend a lot on what else the machine is doing.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from helpers.datasets import as_tensors, digits_split

# The notebook's recipe (section 9).
EPOCHS, LR, LABEL_SMOOTHING, BATCH_SIZE, MAX_SHIFT = 40, 0.01, 0.1, 64, 1


class DigitCNN(nn.Module):
    """Conv(1→c1, 3, pad 1)-ReLU-MaxPool2 → Conv(c1→c2, 3, pad 1)-ReLU-MaxPool2 → Linear(4·c2, 10)."""

    def __init__(self, c1=32, c2=64, n_classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(1, c1, 3, padding=1)
        self.conv2 = nn.Conv2d(c1, c2, 3, padding=1)
        self.fc = nn.Linear(c2 * 4, n_classes)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        return self.fc(x.flatten(1))


def random_shift(images, max_shift, generator):
    """Move each image of (B, 1, H, W) by its own random offset in -max_shift .. max_shift (zeros fill in)."""
    B, _, H, W = images.shape
    padded = F.pad(images, (max_shift,) * 4)
    rows = torch.randint(0, 2 * max_shift + 1, (B, 1), generator=generator) + torch.arange(H)
    cols = torch.randint(0, 2 * max_shift + 1, (B, 1), generator=generator) + torch.arange(W)
    return padded[torch.arange(B)[:, None, None], 0, rows[:, :, None], cols[:, None, :]][:, None]


def accuracy_count(model, images, labels, device):
    model.eval()
    with torch.no_grad():
        return int((model(images.to(device)).argmax(1).cpu() == labels).sum())


def train_cnn(split, seed, device, label_smoothing=LABEL_SMOOTHING, max_shift=MAX_SHIFT):
    """One training run as in the notebook; returns (seconds per epoch, val correct, test correct)."""
    train_images, train_labels = as_tensors(split.train)
    loader = DataLoader(TensorDataset(train_images, train_labels), batch_size=BATCH_SIZE, shuffle=True,
                        generator=torch.Generator().manual_seed(seed))
    shifts = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    model = DigitCNN().to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=LR)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=LR, total_steps=EPOCHS * len(loader))
    times = []
    for _ in range(EPOCHS):
        if device.type == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        model.train()
        for images, labels in loader:
            if max_shift:
                images = random_shift(images, max_shift, shifts)
            images, labels = images.to(device), labels.to(device)
            optimizer.zero_grad()
            F.cross_entropy(model(images), labels, label_smoothing=label_smoothing).backward()
            optimizer.step()
            scheduler.step()
        if device.type == "cuda":
            torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    val = accuracy_count(model, *as_tensors(split.val), device)
    test = accuracy_count(model, *as_tensors(split.test), device)
    return statistics.median(times), val, test


def baselines(split):
    """(name, fit seconds, val correct, test correct) for the notebook's two baselines."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.svm import SVC

    flat = {name: getattr(split, name).images.reshape(len(getattr(split, name).labels), -1)
            for name in ("train", "val", "test")}
    rows = []
    for name, model in (("logistic regression", LogisticRegression(max_iter=5000)), ("RBF SVM", SVC())):
        start = time.perf_counter()
        model.fit(flat["train"], split.train.labels)
        seconds = time.perf_counter() - start
        rows.append((name, seconds, int(np.sum(model.predict(flat["val"]) == split.val.labels)),
                     int(np.sum(model.predict(flat["test"]) == split.test.labels))))
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2], help="seeds of the CNN runs")
    parser.add_argument("--split-seed", type=int, default=0,
                        help="seed of helpers.datasets.digits_split (the notebook uses 0)")
    parser.add_argument("--variants", type=int, default=3, choices=(1, 2, 3),
                        help="how many CNN variants to run: the recipe, without label smoothing, without shifts")
    parser.add_argument("--threads", type=int, default=1,
                        help="CPU threads (the notebook uses 1: two threads are much slower on a busy machine)")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    torch.use_deterministic_algorithms(True, warn_only=True)
    split = digits_split(seed=args.split_seed)
    n_val, n_test = len(split.val.labels), len(split.test.labels)
    devices = [torch.device("cpu")] + ([torch.device("cuda")] if torch.cuda.is_available() else [])

    gpu = ", GPU " + torch.cuda.get_device_name(0) if torch.cuda.is_available() else ""
    print(f"digits split (seed {args.split_seed}): {len(split.train.labels)} train / {n_val} val / {n_test} test; "
          f"torch {torch.__version__}, {args.threads} CPU thread(s){gpu}")
    print(f"CNN recipe: {EPOCHS} epochs, batch {BATCH_SIZE}, one-cycle max lr {LR}, label smoothing {LABEL_SMOOTHING}, "
          f"shifts up to {MAX_SHIFT} pixel\n")
    print("| model | device | seed | train time | per epoch | val | test |")
    print("|---|---|---|---|---|---|---|")
    for name, seconds, val, test in baselines(split):
        print(f"| {name} | cpu | - | {seconds:.2f} s | - | {val}/{n_val} | "
              f"{test}/{n_test} ({100 * test / n_test:.1f}%) |")
    variants = [("DigitCNN (notebook)", dict()), ("DigitCNN, no label smoothing", dict(label_smoothing=0.0)),
                ("DigitCNN, no shifts, no smoothing", dict(label_smoothing=0.0, max_shift=0))][:args.variants]
    for device in devices:
        for name, options in variants:
            for seed in args.seeds:
                per_epoch, val, test = train_cnn(split, seed, device, **options)
                print(f"| {name} | {device.type} | {seed} | {per_epoch * EPOCHS:.2f} s | {1000 * per_epoch:.0f} ms | "
                      f"{val}/{n_val} | {test}/{n_test} ({100 * test / n_test:.1f}%) |", flush=True)


if __name__ == "__main__":
    main()
