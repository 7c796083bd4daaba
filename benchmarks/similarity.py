"""How fast ``make similarity`` is on a class of 300 (by default) synthetic students.

A benchmark, not a test: it prints figures and asserts nothing. ``python benchmarks/similarity.py
--class-size 300``.

Each student's notebooks are the instructor's answers, varied as students would vary them (seeded,
so every run builds the same class): names renamed, comments added, lines of their own added; one
in ten hands in the notebook as it was handed out and one in ten answers only its first cell.
"""

import argparse
import io
import keyword
import random
import shutil
import sys
import tempfile
import time
import tokenize
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

import nbformat  # noqa: E402

from nbtools import ASSIGNMENT, RELEASE, SOURCE, nbgrader_meta, notebook_names, read  # noqa: E402
from test_grading_cases import instructor_answers  # noqa: E402


def renamed(code, rng, share=0.5):
    """``code`` with a random share of its names (not keywords, attributes or builtins) renamed consistently."""
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(code).readline))
    except (tokenize.TokenError, SyntaxError):  # a cell Python's tokenizer cannot read: kept as it is
        return code
    names = sorted({t.string for t in tokens if t.type == tokenize.NAME and not keyword.iskeyword(t.string)
                    and t.string not in dir(__builtins__)})
    new = {name: f"{name}_{rng.randrange(1000)}" for name in names if rng.random() < share}
    out, previous = [], None
    for token in tokens:
        text = token.string
        if token.type == tokenize.NAME and text in new and (previous is None or previous.string != "."):
            text = new[text]
        out.append(token._replace(string=text))
        previous = token
    return tokenize.untokenize(out)


def varied(code, rng):
    """A student's version of ``code``: renamed names, a comment and a line of their own here and there."""
    lines = renamed(code, rng).splitlines()
    result = []
    for line in lines:
        indent = line[:len(line) - len(line.lstrip())]
        if line.strip() and rng.random() < 0.15:
            result.append(f"{indent}# step {rng.randrange(100)}: {rng.choice(['check', 'loop', 'sum', 'here'])}")
        result.append(line)
        if line.strip() and not line.rstrip().endswith((":", ",", "(", "[", "\\")) and rng.random() < 0.1:
            result.append(f"{indent}scratch_{rng.randrange(100)} = {rng.randrange(1000)} * {rng.randrange(10)}")
    return "\n".join(result)


def student_answers(index, name, rng):
    answers = instructor_answers(name)
    if index % 10 == 3:
        return {}
    if index % 10 == 7:
        first = next(iter(answers))
        return {first: varied(answers[first], rng)}
    return {gid: varied(code, rng) for gid, code in answers.items()}


def build_class(root, size, seed=300):
    """source/, release/ and ``size`` students in submitted/ under ``root``."""
    rng = random.Random(seed)
    for kind, folder in (("source", SOURCE), ("release", RELEASE)):
        shutil.copytree(folder, root / kind / ASSIGNMENT)
    for name in notebook_names():
        release = read(RELEASE / f"{name}.ipynb")
        for index in range(size):
            answers = student_answers(index, name, rng)
            nb = nbformat.from_dict(release)
            for cell in nb.cells:
                gid = nbgrader_meta(cell).get("grade_id")
                if nbgrader_meta(cell).get("solution") and gid in answers:
                    cell.source = answers[gid]
            folder = root / "submitted" / f"s{index:04d}" / ASSIGNMENT
            folder.mkdir(parents=True, exist_ok=True)
            nbformat.write(nb, str(folder / f"{name}.ipynb"))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--class-size", type=int, default=300)
    args = parser.parse_args()
    from grading.course.similarity import compare_class, ranked_pairs, write_csv, write_html

    with tempfile.TemporaryDirectory(prefix="similarity-benchmark-") as folder:
        root = Path(folder)
        build_class(root, args.class_size)
        started = time.monotonic()
        results = compare_class(root, ASSIGNMENT)
        compared = time.monotonic() - started
        write_csv(results, root / "similarity.csv")
        write_html(results, ASSIGNMENT, root / "similarity.html")
        seconds = time.monotonic() - started
        cells = sum(len(result.grade_ids) + 1 for result in results)
        pairs = len(ranked_pairs(results[0], "all"))
        print(f"similarity of a class of {args.class_size}: {seconds:.1f} s in all ({compared:.1f} s reading and "
              f"comparing, {seconds - compared:.1f} s writing similarity.csv and similarity.html); "
              f"{len(results)} notebooks, {cells} cells and notebooks, each with {pairs:,} pairs")
        print(f"  similarity.html: {(root / 'similarity.html').stat().st_size / 2**20:.1f} MB, "
              f"similarity.csv: {(root / 'similarity.csv').stat().st_size / 2**20:.1f} MB")


if __name__ == "__main__":
    main()
