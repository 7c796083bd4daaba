"""Written answers lose what could run in a browser (grading/course/text_safety.py): unit tests, seconds."""

from grading.course.text_safety import sanitize_markdown


def test_written_answers_lose_html_that_could_run_but_keep_their_text():
    dirty = ('The kernel <b>flips</b>. <script>fetch("/api")</script><img src=x onerror="alert(1)">'
             '<a href="javascript:alert(1)">link</a> <iframe src="//evil"></iframe> $a < b$')
    from bs4 import BeautifulSoup

    clean = sanitize_markdown(dirty)
    assert "<b>flips</b>" in clean and "a &lt; b" in clean
    tags = BeautifulSoup(clean, "html.parser").find_all(True)
    assert {t.name for t in tags} == {"b", "a"}  # the rest is shown as text, escaped
    assert not [a for t in tags for a in t.attrs if a.startswith("on")]
    assert all(not t.get("href", "").startswith("javascript") for t in tags)
    assert "<script" not in clean and "<iframe" not in clean and "<img" not in clean


def test_markdown_links_with_other_schemes_are_defused():
    answer = ("[a](javascript:alert(1)) [b]( jav&#x61;script:fetch('/api') ) [c](JaVaScRiPt:x) [d](data:text/html,x)\n"
              "[e][ref]\n\n[ref]: javascript:alert(2)\n[f](https://example.org/page) [g](#section) [h](notes.html)")
    clean = sanitize_markdown(answer)
    import nbconvert.filters.markdown as md
    from bs4 import BeautifulSoup

    links = [a.get("href") for a in BeautifulSoup(md.markdown2html_mistune(clean), "html.parser").find_all("a")]
    assert links.count("#") == 5, links
    assert "https://example.org/page" in links and "#section" in links and "notes.html" in links
    assert not [href for href in links if "script" in href.lower() or href.startswith("data:")]


def test_sanitized_answers_keep_their_quotes():
    # bleach escaped Markdown's quote markers, so a quoted line showed as "&gt; ...".
    assert sanitize_markdown("> a quote\n> > nested\na > b") == "> a quote\n> > nested\na &gt; b"
