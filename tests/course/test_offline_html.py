"""Formulas in feedback and Formgrader HTML need no internet (grading/course/offline_html.py): seconds."""

import glob

import nbformat
import pytest
from bs4 import BeautifulSoup
from nbconvert.exporters import HTMLExporter
from nbconvert.filters.markdown_mistune import IPythonRenderer, MarkdownWithMath
from nbformat.v4 import new_markdown_cell, new_notebook
from traitlets.config import Config

from grading.course.offline_html import exporter_settings, nbgrader_template_dir
from nbtools import ROOT, remote_resources


# nbgrader's feedback template inlines Bootstrap's CSS from here (as GenerateFeedback sets it up).
BOOTSTRAP_CSS = str(__import__("pathlib").Path(nbgrader_template_dir()).parent / "static" / "node_modules" / "bootstrap"
                    / "dist" / "css")


def _exporter(template="feedback"):
    """The exporter nbgrader_config.py gives nbgrader (feedback, or Formgrader's "formgrade")."""
    return HTMLExporter(config=Config({"HTMLExporter": {**exporter_settings(), "template_name": template,
                                                        "extra_template_paths": [BOOTSTRAP_CSS]}}))


def _html(markdown, exporter=None):
    nb = new_notebook(cells=[new_markdown_cell(markdown)])
    resources = {"nbgrader": {"notebook": "x", "score": 0, "max_score": 0, "late_penalty": 0},
                 "base_url": "", "index": 0, "total": 1, "submission_id": "s", "notebook_id": "x"}
    body, _ = (exporter or _exporter()).from_notebook_node(nb, resources=resources)
    return BeautifulSoup(body, "html.parser")


def test_inline_and_displayed_formulas_are_mathml():
    soup = _html(r"A sum $a^2 + b_1$ and $$\frac{\partial L}{\partial W}$$ and \begin{aligned} x &= 1 \end{aligned}")
    maths = soup.find_all("math")
    assert len(maths) == 3
    assert maths[0].get("display") == "inline" and maths[0].find("msup") is not None
    assert maths[1].get("display") == "block" and maths[1].find("mfrac") is not None
    assert maths[2].get("display") == "block"
    assert "$" not in soup.get_text()


def test_code_keeps_its_dollars_and_unreadable_tex_stays_as_written():
    soup = _html("Code `$x$` stays, and so does $\\frac{1}{$ this.")
    assert soup.find("code").get_text() == "$x$"
    assert soup.find("math") is None
    assert "\\frac{1}{" in soup.get_text()


def test_formulas_carry_only_mathml_whatever_the_tex_holds():
    # Formgrader shows students' answers; the converter alone copies TeX into markup and links.
    soup = _html(r"$\text{<script>alert(1)</script>}$ and $\href{javascript:alert(2)}{x}$ and "
                 r"$\style{color:red}{y}$ and $\class{c}{z}$")
    assert soup.find("script", string=lambda s: s and "alert" in s) is None
    maths = soup.find_all("math")
    assert len(maths) == 4 and "alert(1)" in maths[0].get_text()
    attributes = {name for math in maths for element in [math, *math.find_all(True)] for name in element.attrs}
    assert attributes <= {"display", "xmlns", "mathvariant", "stretchy", "fence", "form"}, attributes
    assert "javascript:" not in "".join(str(math) for math in maths)


def test_the_feedback_template_fetches_nothing():
    soup = _html("$x$")
    assert remote_resources(soup) == []
    assert "cdnjs" not in str(soup) and "mathjax/2.7" not in str(soup)
    # Without this module's template, nbconvert's macro loads MathJax from a CDN: the check above can fail.
    plain = HTMLExporter(config=Config({"HTMLExporter": {"template_name": "feedback",
                                                         "extra_template_basedirs": [nbgrader_template_dir()],
                                                         "extra_template_paths": [BOOTSTRAP_CSS]}}))
    assert any("mathjax" in address.lower() for address in remote_resources(_html("$x$", plain)))


def test_the_formgrader_template_loads_mathjax_from_the_jupyter_server():
    soup = _html("$x$", _exporter("formgrade"))
    assert remote_resources(soup) == []
    assert "/static/jupyter_server_mathjax/MathJax.js" in str(soup)


def test_the_installed_mathjax_has_what_formgrader_asks_for():
    import jupyter_server_mathjax

    static = __import__("pathlib").Path(jupyter_server_mathjax.__file__).parent / "static"
    assert (static / "MathJax.js").is_file()
    assert (static / "config" / "TeX-AMS-MML_HTMLorMML-full.js").is_file()
    assert (static / "jax" / "output" / "HTML-CSS" / "fonts" / "STIX-Web").is_dir()


def _formulas(source):
    found = []

    class Collect(IPythonRenderer):
        def block_math(self, body):
            found.append(body)
            return ""

        def inline_math(self, body):
            found.append(body)
            return ""

        def latex_environment(self, name, body):
            found.append(f"\\begin{{{name}}}{body}\\end{{{name}}}")
            return ""

    MarkdownWithMath(renderer=Collect(escape=False)).render(source)
    return found


@pytest.mark.parametrize("path", sorted(glob.glob(str(ROOT / "source" / "ex04" / "*.ipynb"))),
                         ids=lambda p: p.rsplit("/", 1)[-1])
def test_every_formula_of_the_notebooks_becomes_mathml(path):
    from grading.course.offline_html import tex_to_mathml

    nb = nbformat.read(path, as_version=4)
    formulas = [f for cell in nb.cells if cell.cell_type == "markdown" for f in _formulas(cell.source)]
    assert formulas, "every notebook has formulas"
    unreadable = [f for f in formulas if tex_to_mathml(f) is None]
    assert not unreadable, f"shown as raw TeX in feedback: {unreadable[:5]}"


def test_the_course_config_gives_nbgrader_these_settings():
    from traitlets.config.loader import PyFileConfigLoader

    config = PyFileConfigLoader("nbgrader_config.py", path=str(ROOT)).load_config()
    settings = exporter_settings()
    assert {name: config.HTMLExporter[name] for name in settings} == settings
    assert settings["filters"]["markdown2html"] == "grading.course.offline_html.markdown2html"


@pytest.mark.slow
def test_published_solutions_fetch_nothing_and_describe_every_figure(tmp_path):
    from grading.course.offline_html import export_solutions

    written = export_solutions(ROOT, "ex04", tmp_path)
    assert [p.stem for p in written] == [p.stem for p in sorted((ROOT / "notebooks" / "ex04").glob("*.ipynb"))]
    for path in written:
        soup = BeautifulSoup(path.read_text(), "html.parser")
        assert remote_resources(soup) == [], path.name
        assert soup.find("math") is not None, path.name
        images = soup.find_all("img")
        assert images and all((img.get("alt") or "").startswith("Figure") for img in images), path.name
    # nbconvert's own classic page loads jQuery, RequireJS, Mermaid and MathJax from CDNs.
    notebook = ROOT / "notebooks" / "ex04" / "01_convolutions.ipynb"
    plain, _ = HTMLExporter(template_name="classic").from_filename(str(notebook))
    assert len(remote_resources(BeautifulSoup(plain, "html.parser"))) >= 3


# Answers a hostile student wrote (a review of this module found each one working): after the
# sanitizer that runs at autograde time, the Formgrader page must hold no harmful link.
HARMFUL_LINKS = [
    "[see derivation](javascript\\:void(fetch('/HIT')))",
    "[x](&#x6a;avascript\\:alert(1))",
    "[nl]:\njavascript:alert(1)\n\n[nl]",
    "[a\\]b]: javascript:alert(1)\n\n[a\\]b]",
    "[m\nn]: javascript:alert(1)\n\n[m n]",
    "- [li]: javascript:alert(1)\n\n  [li]",
    "[x](data\\:text/html,<b>hi</b>)",
    "[x]( java\tscript:alert(1))",
]


@pytest.mark.parametrize("answer", HARMFUL_LINKS)
def test_links_in_answers_keep_only_safe_schemes(answer):
    from grading.course.text_safety import sanitize_markdown
    from grading.course.offline_html import is_safe_link

    soup = _html(sanitize_markdown(answer), _exporter("formgrade"))
    cell = soup.select_one("div.text_cell_render")
    for link in cell.find_all("a"):
        assert is_safe_link(link.get("href", "")), link


def test_safe_links_stay_links():
    soup = _html("[docs](https://numpy.org/doc/) and [mail](mailto:a@b.org) and [up](#section)")
    hrefs = [a["href"] for a in soup.select_one("div.text_cell_render").find_all("a")]
    assert hrefs == ["https://numpy.org/doc/", "mailto:a@b.org", "#section"]


def test_images_from_outside_the_notebook_are_not_fetched_and_a_missing_attachment_fails_nothing():
    # A remote image tells its server when the answer was read; a relative one sends a request
    # to the grader's own server; a missing attachment made nbconvert fail the whole notebook.
    soup = _html("![tracker](http://example.org/p.png) ![out](../../../logout) ![gone](attachment\\:nope) "
                 "![plain](attachment:nope)", _exporter("formgrade"))
    cell = soup.select_one("div.text_cell_render")
    assert cell.find("img") is None
    assert [s.get_text() for s in cell.select("span.image-not-shown")] == [
        "[image: tracker]", "[image: out]", "[image: gone]", "[image: plain]"]


def test_an_attached_image_is_shown():
    nb = new_notebook(cells=[new_markdown_cell("![dot](attachment:dot.png)",
                                               attachments={"dot.png": {"image/png": "iVBORw0KGgo="}})])
    resources = {"nbgrader": {"notebook": "x", "score": 0, "max_score": 0, "late_penalty": 0}}
    body, _ = _exporter().from_notebook_node(nb, resources=resources)
    image = BeautifulSoup(body, "html.parser").select_one("div.text_cell_render img")
    assert image["src"] == "data:image/png;base64,iVBORw0KGgo=" and image["alt"] == "dot"


def test_a_huge_markdown_cell_is_shown_as_text():
    # Unclosed "\\(" make nbconvert's formula patterns quadratic: 80 KB took 8.5 s, 320 KB 314 s.
    from grading.course.offline_html import MAX_MARKDOWN_CHARS

    soup = _html("\\\\( " * (MAX_MARKDOWN_CHARS // 3))
    cell = soup.select_one("div.text_cell_render")
    assert "shown as written" in cell.get_text() and cell.find("pre") is not None


def test_a_formula_in_a_heading_stays_mathml():
    # With an xmlns, nbconvert's heading anchors wrote <ns0:math>, which browsers show as text.
    soup = _html("## The derivative $\\partial L$")
    heading = soup.find("h2")
    assert heading.find("math") is not None and "ns0:" not in str(heading)
