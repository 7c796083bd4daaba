"""A crafted class for notebook 01_convolutions whose similarities are known, for the report tests.

* ``honest``: the instructor's answers, with comments of their own;
* ``disguised``: ``honest`` with locals renamed, comments and docstrings rewritten, independent
  statements reordered (a copy made to hide);
* ``independent``: a correct solution written from scratch, in another way (a comment of its
  holds markup that a page must show as text);
* ``partial``: ``output_size`` only, written alone (with a lone surrogate in a comment); the other cells
  as handed out;
* ``blank`` and ``blank_too``: the notebook as handed out.
"""

import json
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from nbtools import ASSIGNMENT, RELEASE, SOURCE, nbgrader_meta, read

NOTEBOOK = "01_convolutions"

HONEST = {
    "output_size": '''def output_size(n, k, stride=1, padding=0):
    """Number of output pixels along one axis."""
    # check the arguments first
    if stride < 1:
        raise ValueError(f"stride must be at least 1, got {stride}")
    if padding < 0:
        raise ValueError(f"padding must be at least 0, got {padding}")
    if k > n + 2 * padding:
        raise ValueError(f"a kernel of {k} does not fit into {n} pixels padded by {padding}")
    # the formula from the lecture
    return int((n + 2 * padding - k) // stride + 1)
''',
    "corr2d": '''def corr2d(X, K, stride=1, padding=0):
    """Cross-correlate a 2-D image with a 2-D kernel."""
    X = np.asarray(X, dtype=float)
    K = np.asarray(K, dtype=float)
    if X.ndim != 2 or K.ndim != 2:
        raise ValueError(f"corr2d needs 2-D arrays, got {X.shape} and {K.shape}")
    if padding:
        X = np.pad(X, padding)  # zeros all around
    kh, kw = K.shape
    rows = output_size(X.shape[0], kh, stride)
    cols = output_size(X.shape[1], kw, stride)
    Y = np.zeros((rows, cols))
    # slide the window over the image
    for i in range(rows):
        for j in range(cols):
            top, left = i * stride, j * stride
            Y[i, j] = np.sum(X[top:top + kh, left:left + kw] * K)
    return Y
''',
    "conv2d": '''def conv2d(X, K):
    """Convolution = correlation with the flipped kernel."""
    K = np.asarray(K)
    return corr2d(X, K[::-1, ::-1])
''',
}

DISGUISED = {
    "output_size": '''def output_size(n, k, stride=1, padding=0):
    """How many positions the window takes on one axis (my own words)."""
    if padding < 0:
        raise ValueError(f"negative padding is not allowed: {padding}")
    if stride < 1:
        raise ValueError(f"the stride has to be positive: {stride}")
    if k > n + 2 * padding:
        raise ValueError(f"kernel {k} is larger than the padded input {n} + {padding}")
    # standard output size formula
    return int((n + 2 * padding - k) // stride + 1)
''',
    "corr2d": '''def corr2d(X, K, stride=1, padding=0):
    """Slides K over X and sums the products at each position."""
    kernel = np.asarray(K, dtype=float)
    image = np.asarray(X, dtype=float)
    if image.ndim != 2 or kernel.ndim != 2:
        raise ValueError(f"two dimensions needed: {image.shape}, {kernel.shape}")
    if padding:
        image = np.pad(image, padding)
    height, width = kernel.shape
    n_rows = output_size(image.shape[0], height, stride)
    n_cols = output_size(image.shape[1], width, stride)
    out = np.zeros((n_rows, n_cols))
    for r in range(n_rows):
        for c in range(n_cols):
            y0, x0 = r * stride, c * stride
            out[r, c] = np.sum(image[y0:y0 + height, x0:x0 + width] * kernel)
    return out
''',
    "conv2d": '''def conv2d(X, K):
    """Flip the kernel both ways, then correlate."""
    flipped = np.asarray(K)
    return corr2d(X, flipped[::-1, ::-1])
''',
}

INDEPENDENT = {
    "output_size": '''def output_size(n, k, stride=1, padding=0):
    """Number of output pixels along one axis."""
    assert stride >= 1 and padding >= 0, "bad stride or padding"
    size = n + padding * 2
    if size < k:
        raise ValueError("the kernel is bigger than the image")
    count = 0
    start = 0
    while start + k <= size:
        count += 1
        start += stride
    return count
''',
    "corr2d": '''def corr2d(X, K, stride=1, padding=0):
    """Cross-correlate a 2-D image with a 2-D kernel."""
    img = np.array(X, dtype=np.float64)
    ker = np.array(K, dtype=np.float64)
    if padding > 0:
        big = np.zeros((img.shape[0] + 2 * padding, img.shape[1] + 2 * padding))
        big[padding:-padding, padding:-padding] = img
        img = big
    windows = np.lib.stride_tricks.sliding_window_view(img, ker.shape)[::stride, ::stride]
    return np.einsum("ijkl,kl->ij", windows, ker)
''',
    "conv2d": '''def conv2d(X, K):
    """Convolution = correlation with the flipped kernel."""
    # </pre><script>document.title = "hacked"</script> flip both axes
    return corr2d(X, np.flip(np.flip(np.array(K), 0), 1))
''',
}

PARTIAL = {"output_size": '''def output_size(n, k, stride=1, padding=0):
    """Number of output pixels along one axis."""
    # a lone surrogate, as a notebook's JSON can hold one: \ud800
    total = n + 2 * padding - k
    return total // stride + 1
'''}

STUDENTS = {"honest": HONEST, "disguised": DISGUISED, "independent": INDEPENDENT, "partial": PARTIAL, "blank": {},
            "blank_too": {}}


def _filled(answers):
    """The release notebook with ``answers`` (grade_id -> source) typed into its solution cells."""
    nb = read(RELEASE / f"{NOTEBOOK}.ipynb")
    for cell in nb.cells:
        gid = nbgrader_meta(cell).get("grade_id")
        if nbgrader_meta(cell).get("solution") and gid in answers:
            cell.source = answers[gid]
    return nb


def write_escaped(nb, path):
    """Write a notebook as JupyterLab keeps text it cannot encode in UTF-8: as JSON escapes (\\ud800)."""
    Path(path).write_text(json.dumps(nb, indent=1, ensure_ascii=True), encoding="ascii")


def write_class(root, students=STUDENTS):
    """source/, release/ and submitted/ of a course with only :data:`NOTEBOOK`; returns ``root``."""
    root = Path(root)
    for kind, folder in (("source", SOURCE), ("release", RELEASE)):
        (root / kind / ASSIGNMENT).mkdir(parents=True, exist_ok=True)
        shutil.copy(folder / f"{NOTEBOOK}.ipynb", root / kind / ASSIGNMENT / f"{NOTEBOOK}.ipynb")
    for student, answers in students.items():
        folder = root / "submitted" / student / ASSIGNMENT
        folder.mkdir(parents=True, exist_ok=True)
        write_escaped(_filled(answers), folder / f"{NOTEBOOK}.ipynb")
    return root
