"""HTML of notebooks whose formulas need no internet: feedback files and Formgrader pages.

nbconvert leaves every ``$…$`` for MathJax, which its templates (and nbgrader's) load from a
CDN: offline, and in JupyterLab's HTML viewer, which runs no scripts, a student sees raw TeX.
Here each formula becomes MathML when the HTML is written. Browsers draw MathML themselves, so a
feedback file shows its formulas anywhere: from disk, from an LMS, offline.

Formgrader's own script calls MathJax's API, so its pages still load MathJax, from the instructor's
Jupyter server, which serves the installed package ``jupyter-server-mathjax``
(``templates/base/mathjax.html.j2``). Nothing is fetched from outside.

``nbgrader_config.py`` installs both (:func:`exporter_settings`): :func:`markdown2html` as the
Markdown filter of nbgrader's HTML exporter and :data:`TEMPLATE_DIR` in front of nbgrader's templates.
Both pages show a very long cell cut to a readable size, with a note (:func:`shown_source`). ``make solutions-html``
(:func:`export_solutions`) writes the executed solutions as HTML the same way, to publish them.
"""

import html
import os
import re
from pathlib import Path

from jinja2 import pass_context
from latex2mathml.converter import convert as latex_to_mathml
from nbconvert.filters.highlight import Highlight2HTML
from nbconvert.filters.markdown_mistune import IPythonRenderer, MarkdownWithMath

#: Templates that take precedence over nbconvert's: a ``mathjax`` macro that fetches nothing.
TEMPLATE_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "templates")


def nbgrader_template_dir():
    """The folder of nbgrader's own templates (feedback, formgrade), which ours stand in front of."""
    import nbgrader

    return os.path.join(os.path.dirname(nbgrader.__file__), "server_extensions", "formgrader", "templates")


#: MathML elements and attributes a formula may keep. Formgrader shows students' answers to the
#: grader, and the converter copies TeX into its output: ``\\text{<script>…}`` as markup,
#: ``\\href{javascript:…}`` as a link. Everything else is dropped (elements keep their text).
MATHML_ELEMENTS = frozenset("""
    math mrow mi mn mo ms mtext mspace msub msup msubsup munder mover munderover mfrac msqrt mroot
    mtable mtr mtd mlabeledtr mstyle mpadded mphantom menclose merror mmultiscripts mprescripts none
    semantics annotation maligngroup malignmark mfenced
""".split())
MATHML_ATTRIBUTES = frozenset("""
    display mathvariant mathsize mathcolor mathbackground dir stretchy fence form separator largeop
    movablelimits symmetric accent accentunder lspace rspace minsize maxsize width height depth voffset
    linethickness numalign denomalign bevelled columnalign rowalign columnspacing rowspacing columnlines
    rowlines columnspan rowspan frame framespacing equalrows equalcolumns displaystyle scriptlevel
    notation open close separators encoding
""".split())
MATHML_NAMESPACE = "http://www.w3.org/1998/Math/MathML"
_BARE_AMPERSAND = re.compile(r"&(?!#?[0-9A-Za-z]+;)")


def _only_mathml(element):
    """Keep allowed elements and attributes of an ElementTree in place; others lose their markup."""
    for child in list(element):
        _only_mathml(child)
        if child.tag.rsplit("}", 1)[-1] not in MATHML_ELEMENTS:
            # The child goes, its text stays (as text of what came before it).
            index = list(element).index(child)
            text = "".join(child.itertext()) + (child.tail or "")
            if index == 0:
                element.text = (element.text or "") + text
            else:
                previous = element[index - 1]
                previous.tail = (previous.tail or "") + text
            element.remove(child)
    element.tag = element.tag.rsplit("}", 1)[-1]
    for name in list(element.attrib):
        if name not in MATHML_ATTRIBUTES:
            del element.attrib[name]


def tex_to_mathml(tex, display=False):
    """MathML for one formula, or None where the TeX is beyond the converter.

    Only MathML comes out (:data:`MATHML_ELEMENTS`, :data:`MATHML_ATTRIBUTES`), with its text
    escaped, whatever the TeX holds.

    Parameters
    ----------
    tex : str
        The formula without its delimiters, e.g. ``"\\frac{a}{b}"``.
    display : bool
        A displayed formula (``$$…$$``, an environment) rather than one in the text.
    """
    from xml.etree import ElementTree

    from defusedxml.ElementTree import fromstring

    try:
        markup = latex_to_mathml(tex, display="block" if display else "inline")
        # The converter leaves a bare & (an alignment mark it did not place) unescaped.
        tree = fromstring(_BARE_AMPERSAND.sub("&amp;", markup))
    except Exception:  # a student's TeX may be anything; it then shows as written
        return None
    if tree.tag != f"{{{MATHML_NAMESPACE}}}math":
        return None
    _only_mathml(tree)
    # No xmlns: HTML puts <math> into MathML's namespace by itself, and with one nbconvert's
    # heading anchors re-serialise it as <ns0:math>, which browsers do not draw as maths.
    return ElementTree.tostring(tree, encoding="unicode", short_empty_elements=False)


#: Link schemes a page may keep; any other (javascript:, data:, vbscript:, file:…) becomes "#".
SAFE_LINK_SCHEMES = ("http", "https", "mailto")
#: Longer Markdown cells are shown as plain text: nbconvert's formula patterns take time that
#: grows with the square of a cell's length on unclosed delimiters (80 KB of "\\(" took 8.5 s).
#: The unit's longest Markdown cell is under 4,000 characters.
MAX_MARKDOWN_CHARS = 20_000
#: A cell's source is shown cut after this many lines or characters, with a note: Pygments wraps
#: every token of a code cell in markup, so 1.2 MB of code in a solution cell made a feedback page
#: of 13.7 MB. The unit's longest cell, solution or not, has 78 lines and 4,970 characters.
MAX_SHOWN_LINES = 400
MAX_SHOWN_CHARS = 20_000
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*):")


def url_scheme(url):
    """The scheme a browser could read from ``url`` (lower case), or None for a relative address.

    Browsers skip leading spaces and control characters and drop tabs and newlines anywhere, so
    ``" java\\tscript:"`` is ``javascript:`` to them. This drops every space and unprintable
    character, a little more than browsers do: a link it misjudges becomes "#", never a script.
    """
    plain = "".join(ch for ch in url if ch.isprintable() and not ch.isspace())
    found = _SCHEME.match(plain)
    return found.group(1).lower() if found else None


def is_safe_link(url):
    """Whether a link to ``url`` may stay: relative, or one of :data:`SAFE_LINK_SCHEMES`."""
    return url_scheme(url) in (None, *SAFE_LINK_SCHEMES)


class OfflineRenderer(IPythonRenderer):
    """nbconvert's Markdown renderer for pages that load nothing and run nothing by themselves.

    Formgrader shows students' written answers to the grader in the grader's browser, so:

    * formulas become MathML instead of TeX for MathJax (:func:`tex_to_mathml`); one the
      converter cannot read stays as the TeX that was written, so nothing a student wrote is lost;
    * links keep only :data:`SAFE_LINK_SCHEMES`, judged on the address Markdown produced
      (after its escapes and entities), not on the source text;
    * images show only when they are part of the notebook (attachments, ``data:image/``); any
      other address would be fetched as the page opens, telling a remote server when the answer
      was read, or sending a request to the grader's own server. Such an image, or a missing
      attachment, is shown as its alt text instead of failing the whole page.
    """

    def __init__(self, **options):
        super().__init__(allow_harmful_protocols=False, **options)

    def _formula(self, tex, shown, display):
        mathml = tex_to_mathml(tex, display)
        if mathml is None:
            return html.escape(shown, quote=False)
        return mathml

    def block_math(self, body):
        return self._formula(body, f"$${body}$$", display=True)

    def inline_math(self, body):
        return self._formula(body, f"${body}$", display=False)

    def latex_environment(self, name, body):
        tex = f"\\begin{{{name}}}{body}\\end{{{name}}}"
        return self._formula(tex, tex, display=True)

    def link(self, text, url, title=None):
        return super().link(text, url if is_safe_link(url) else "#", title)

    def image(self, text, url, title=None):
        attachment = url[len("attachment:"):] if url.startswith("attachment:") else None
        embedded = attachment in self.attachments if attachment is not None else url.startswith("data:image/")
        if embedded:
            return super().image(text, url, title)
        # The alt text as mistune rendered it (escaped already), without any markup in it.
        from bs4 import BeautifulSoup

        alt = BeautifulSoup(text, "html.parser").get_text()
        return f'<span class="image-not-shown">[image: {html.escape(alt, quote=False)}]</span>'


def shown_source(source):
    """The start of a cell's source that a page shows, and a note when that is not all of it.

    Returns
    -------
    (str, str)
        The source cut after :data:`MAX_SHOWN_LINES` lines and :data:`MAX_SHOWN_CHARS` characters,
        and a note saying so ("" when nothing was cut).
    """
    lines = source.splitlines(keepends=True)
    if len(lines) <= MAX_SHOWN_LINES and len(source) <= MAX_SHOWN_CHARS:
        return source, ""
    shown = "".join(lines[:MAX_SHOWN_LINES])[:MAX_SHOWN_CHARS]
    note = (f"This cell has {len(lines):,} lines and {len(source):,} characters: shown are its first "
            f"{len(shown.splitlines()):,} lines ({len(shown):,} characters). Grading used all of it; the whole "
            "cell is in the notebook as handed in.")
    return shown, note


def _cut_note(note):
    return f'<p class="cut-note"><em>{html.escape(note, quote=False)}</em></p>' if note else ""


class ReadableHighlight(Highlight2HTML):
    """nbconvert's ``highlight_code`` filter for a cell cut to a readable size (:func:`shown_source`)."""

    def __call__(self, source, language=None, metadata=None):
        shown, note = shown_source(source)
        return super().__call__(shown, language, metadata) + _cut_note(note)


@pass_context
def markdown2html(context, source):
    """The ``markdown2html`` filter of nbconvert's HTML exporter, with :class:`OfflineRenderer`.

    It reads a cell's attachments and the notebook's folder from the template context, as
    nbconvert's own filter does. A cell longer than :data:`MAX_MARKDOWN_CHARS` is shown as text.
    """
    if len(source) > MAX_MARKDOWN_CHARS:
        shown, note = shown_source(source)
        return (f"<p><em>This Markdown cell has {len(source):,} characters, more than {MAX_MARKDOWN_CHARS:,}: "
                f"it is shown as written.</em></p><pre>{html.escape(shown, quote=False)}</pre>" + _cut_note(note))
    cell = context.get("cell", {})
    resources = context.get("resources", {})
    renderer = OfflineRenderer(
        escape=False,
        attachments=cell.get("attachments", {}),
        path=resources.get("metadata", {}).get("path", ""),
    )
    return MarkdownWithMath(renderer=renderer).render(source)


def exporter_settings():
    """The settings of nbconvert's ``HTMLExporter`` that make its pages offline and safe.

    ``nbgrader_config.py`` gives them to nbgrader (feedback, Formgrader); :func:`offline_exporter`
    to ``make solutions-html``.
    """
    return {"filters": {"markdown2html": f"{__name__}.markdown2html",
                        "highlight_code": f"{__name__}.ReadableHighlight"},
            "extra_template_basedirs": [TEMPLATE_DIR, nbgrader_template_dir()]}


def offline_exporter(template_name="offline"):
    """nbconvert's HTML exporter with MathML formulas and no CDN, for one of its templates.

    The default, ``templates/offline``, is nbconvert's classic page without its CDN scripts; like
    classic, it writes each figure's alt text (``helpers.course.figure_description``).
    """
    from nbconvert.exporters import HTMLExporter
    from traitlets.config import Config

    return HTMLExporter(config=Config({"HTMLExporter": {**exporter_settings(), "template_name": template_name}}))


def export_solutions(root, assignment, out=None):
    """Write the executed solutions (``notebooks/<assignment>/*.ipynb``) as self-contained HTML.

    Returns
    -------
    list of pathlib.Path
        The files written, in ``dist/<assignment>-solutions-html/`` unless ``out`` is given.
    """
    import nbformat

    root = Path(root)
    out = Path(out) if out is not None else root / "dist" / f"{assignment}-solutions-html"
    out.mkdir(parents=True, exist_ok=True)
    exporter = offline_exporter()
    written = []
    for path in sorted((root / "notebooks" / assignment).glob("*.ipynb")):
        body, _ = exporter.from_notebook_node(nbformat.read(path, as_version=4),
                                              resources={"metadata": {"name": path.stem, "path": str(path.parent)}})
        target = out / f"{path.stem}.html"
        target.write_text(body, encoding="utf-8")
        written.append(target)
    return written
