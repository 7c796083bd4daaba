"""A correct evaluate of notebook 06 (a reference: never in the sandbox of Task 3's test).

The tests of train and of the test accuracy put it under the student's name ``evaluate`` while
they run, so that a wrong evaluate costs Task 3's points only.
"""

import torch
import torch.nn.functional as F


def reference_evaluate(model, loader):
    """A correct evaluate (mean cross-entropy over images, accuracy), to stand in for the student's."""
    was = model.training
    model.eval()
    total, correct, count = 0.0, 0, 0
    with torch.no_grad():
        for images, labels in loader:
            logits = model(images)
            total += F.cross_entropy(logits, labels, reduction="sum").item()
            correct += (logits.argmax(1) == labels).sum().item()
            count += len(labels)
    model.train(was)
    return total / count, correct / count
