"""Task 2's network of notebook 06, written out (a reference: never in the sandbox of Task 2 or 5).

The test of train (Task 4) trains this network with the student's train, so that a wrong
DigitCNN costs Task 2's points only. It is copied into that test's sandbox alone.
"""

import torch
import torch.nn.functional as F
from torch import nn


class ReferenceDigitCNN(nn.Module):
    """Task 2's network, written out: so that the test of train does not depend on DigitCNN."""

    def __init__(self, c1=32, c2=64, n_classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(1, c1, kernel_size=3, padding=1)
        self.conv2 = nn.Conv2d(c1, c2, kernel_size=3, padding=1)
        self.fc = nn.Linear(c2 * 2 * 2, n_classes)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        return self.fc(torch.flatten(x, start_dim=1))


def reference_digit_cnn(c1=32, c2=64, n_classes=10, seed=None):
    """A ReferenceDigitCNN, built after ``torch.manual_seed(seed)`` when a seed is given."""
    if seed is not None:
        torch.manual_seed(int(seed))
    return ReferenceDigitCNN(int(c1), int(c2), int(n_classes))
