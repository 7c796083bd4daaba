"""What a student wrote, made safe to store in nbgrader and to show in a grader's browser.

:func:`storable_text` replaces the characters nbgrader cannot write; :func:`sanitize_markdown`
removes from a written answer the HTML and the links that could run in a browser.
"""

import html
import re
import urllib.parse

#: Tags and attributes a written answer may keep (Markdown makes these; nothing that runs).
SAFE_TAGS = ["a", "abbr", "b", "blockquote", "br", "code", "del", "div", "em", "h1", "h2", "h3", "h4", "h5",
             "h6", "hr", "i", "kbd", "li", "ol", "p", "pre", "s", "span", "strong", "sub", "sup", "table",
             "tbody", "td", "th", "thead", "tr", "u", "ul"]
SAFE_ATTRIBUTES = {"a": ["href", "title"], "td": ["align"], "th": ["align"]}

#: What nbgrader cannot write (lone surrogates: UTF-8 has no bytes for them) or a page should not
#: hold (NUL and the other control characters but tab, line feed and carriage return). A notebook's
#: JSON can carry any of them as an escape (\ud800, \u0000).
_UNSTORABLE = re.compile("[\ud800-\udfff\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

_INLINE_LINK = re.compile(r"(\]\(\s*<?)([^)\s>]*)")
_REFERENCE_LINK = re.compile(r"(^[ \t]*\[[^\]\n]+\]:[ \t]*<?)(\S*?)(?=>?(?:\s|$))", re.MULTILINE)
_QUOTE_MARKERS = re.compile(r"^(?:[ \t]*&gt;)+", re.MULTILINE)


def replace_unstorable(text):
    """``text`` with each character that nbgrader cannot store replaced by U+FFFD."""
    return _UNSTORABLE.sub("\ufffd", text)


def storable_text(text, code=False):
    """``text`` with each character nbgrader cannot store shown as U+FFFD, and a note saying so.

    Parameters
    ----------
    text : str
        A student's cell source.
    code : bool
        The note becomes a comment (a code cell) instead of an emphasised line (Markdown).
    """
    count = len(_UNSTORABLE.findall(text))
    if not count:
        return text
    note = (f"Note from grading: {count} character(s) that cannot be stored here (a lone surrogate, NUL or "
            "another control character) are shown as \ufffd; the tests saw the cell as it was handed in.")
    cleaned = replace_unstorable(text)
    return f"{cleaned}\n\n# {note}\n" if code else f"{cleaned}\n\n*{note}*\n"


def sanitize_markdown(text):
    """Markdown without HTML that could run in a browser: scripts, handlers, frames, forms.

    Allowed tags stay, everything else is shown as text (escaped), and links keep only
    http(s) and mailto targets.
    """
    import bleach

    from grading.course.offline_html import SAFE_LINK_SCHEMES

    cleaned = bleach.clean(text, tags=SAFE_TAGS, attributes=SAFE_ATTRIBUTES,
                           protocols=list(SAFE_LINK_SCHEMES), strip=False, strip_comments=True)
    # Markdown makes links of its own ([x](javascript:...), [x]: data:...), which bleach does not
    # see in the source: their targets are checked here, after entities are decoded.
    cleaned = _INLINE_LINK.sub(lambda m: m.group(1) + safe_target(m.group(2)), cleaned)
    cleaned = _REFERENCE_LINK.sub(lambda m: m.group(1) + safe_target(m.group(2)), cleaned)
    # bleach escapes every ">", also Markdown's quote markers at the start of a line; put those
    # back (a ">" in text opens nothing). The renderer checks the links that Markdown itself
    # produces (grading/course/offline_html.py): escapes such as "javascript\:" get past the patterns above.
    return _QUOTE_MARKERS.sub(lambda m: m.group(0).replace("&gt;", ">"), cleaned)


def safe_target(target):
    """A link target, or "#" when it names a scheme other than http(s) or mailto."""
    from grading.course.offline_html import is_safe_link

    return target if is_safe_link(urllib.parse.unquote(html.unescape(html.unescape(target)))) else "#"
