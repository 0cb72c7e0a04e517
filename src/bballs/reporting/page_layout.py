"""Float placement for the PDF reports: a table or figure that does not fit below the text
before it moves below the next paragraph, so the text fills the page first (as floats do in
LaTeX), instead of the page ending half empty."""
from __future__ import annotations

import re
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any, Callable

GAP = 0.1  # a page whose content ends this share of its height above the usual end has a gap
PASSES = 12  # renderings at most; each moves every pushed float down by one paragraph
VOID = {"img", "br", "hr", "meta", "input", "col", "source", "wbr"}


@dataclass
class Unit:
    """One top-level block of the report's HTML: ``kind`` is "heading", "float" (a table or a
    figure, with its caption) or "text" (a paragraph or a list; "other" for anything else)."""

    kind: str
    html: str
    number: int = 0  # the unit's place in the original order
    leads: int = -1  # the number of the float whose lead paragraph this is


class _TopLevel(HTMLParser):
    """The character spans of the top-level elements of an HTML fragment."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=False)
        self.lines = [0]
        for line in html.splitlines(keepends=True):
            self.lines.append(self.lines[-1] + len(line))
        self.depth, self.start, self.spans = 0, 0, []
        self.feed(html)
        self.close()

    def _offset(self) -> int:
        line, column = self.getpos()
        return self.lines[line - 1] + column

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if self.depth == 0:
            self.start = self._offset()
        if tag in VOID:
            if self.depth == 0:
                self.spans.append((self.start, self._offset() + len(self.get_starttag_text())))
            return
        self.depth += 1

    def handle_startendtag(self, tag: str, attrs: list) -> None:
        if self.depth == 0:
            self.spans.append((self._offset(), self._offset() + len(self.get_starttag_text())))

    def handle_endtag(self, tag: str) -> None:
        if tag in VOID:
            return
        self.depth -= 1
        if self.depth == 0:
            end = self._offset()
            self.spans.append((self.start, end + len(f"</{tag}>")))


def _kind(block: str) -> str:
    tag = re.match(r"<(\w+)", block).group(1)
    if tag in ("h1", "h2", "h3", "h4"):
        return "heading"
    if tag == "table" or (tag == "div" and "<table" in block) or "<img" in block:
        return "float"
    if re.match(r'<p[^>]*>\s*<em class="caption">', block):
        return "caption"
    return "text" if tag in ("p", "ul", "ol") else "other"


def units(html: str) -> list[Unit]:
    """``html``'s top-level blocks, a table's caption joined to its table."""
    found: list[Unit] = []
    for start, end in _TopLevel(html).spans:
        block = html[start:end]
        kind = _kind(block)
        if kind == "caption" and found and found[-1].kind == "float":
            found[-1].html += "\n" + block
        else:
            found.append(Unit("text" if kind == "caption" else kind, block, len(found)))
            if kind == "float" and len(found) > 1 and 'class="lead"' in found[-2].html:
                found[-2].leads = found[-1].number
    return found


def _tagged(found: list[Unit]) -> str:
    """The units as HTML, each with an id (``u<index>``) to find its page by; a lead paragraph
    keeps its class only while its own float follows it."""
    out = []
    for index, unit in enumerate(found):
        html = unit.html
        following = found[index + 1].number if index + 1 < len(found) else -1
        if following != unit.leads:
            html = html.replace('<p class="lead">', "<p>", 1)
        out.append(re.sub(r"^<(\w+)", rf'<\1 id="u{index}"', html, count=1))
    return "\n".join(out)


def _pages(document: Any, count: int) -> list[int]:
    """The page on which each unit starts."""
    page_of = {}
    for number, page in enumerate(document.pages):
        for anchor in page.anchors:
            if anchor.startswith("u") and anchor[1:].isdigit():
                page_of.setdefault(int(anchor[1:]), number)
    return [page_of.get(index, -1) for index in range(count)]


def _bottoms(document: Any) -> list[float]:
    """How far down each page its content goes, as a share of the page height."""
    from weasyprint.formatting_structure import boxes

    shares = []
    for page in document.pages:
        bottom = 0.0
        for child in page._page_box.children:
            if isinstance(child, boxes.MarginBox):
                continue
            for box in child.descendants():
                if isinstance(box, (boxes.LineBox, boxes.ReplacedBox, boxes.TableBox)):
                    bottom = max(bottom, box.position_y + box.margin_height())
        shares.append(bottom / page.height)
    return shares


def _opens_page(found: list[Unit], pages: list[int], index: int) -> bool:
    """Whether unit ``index`` starts a page, or only its lead paragraph and the headings above
    that (which the style sheet keeps with it) come before it there."""
    page, before = pages[index], index - 1
    if before >= 0 and found[before].kind == "text" and pages[before] == page:
        before -= 1
    while before >= 0 and found[before].kind == "heading" and pages[before] == page:
        before -= 1
    return before >= 0 and pages[before] == page - 1


def _run_end(found: list[Unit], index: int) -> int:
    """The index after the run of floats that starts at ``index``."""
    while index < len(found) and found[index].kind == "float":
        index += 1
    return index


def _pushed(found: list[Unit], pages: list[int], bottoms: list[float]) -> list[int]:
    """The floats that open a page after a gap and whose run of floats can move below the
    paragraph that follows it."""
    full = max(bottoms[:-1], default=1.0)
    pushed = []
    for index in range(1, len(found)):
        if found[index].kind != "float" or found[index - 1].kind == "float":
            continue  # not the first float of a run
        end = _run_end(found, index)
        if (end < len(found) and found[end].kind == "text" and pages[index] > 0
                and bottoms[pages[index] - 1] < full - GAP and _opens_page(found, pages, index)):
            pushed.append(index)
    return pushed


def place_floats(html: str, render: Callable[[str], Any]) -> Any:
    """``render(body)`` of ``html`` after moving each table or figure that would leave a gap
    at the foot of the page before it below the paragraph that follows it, repeated until no
    page gains (at most :data:`PASSES` renderings). ``render`` returns a WeasyPrint
    document."""
    found = units(html)
    document = render(_tagged(found))
    for _ in range(PASSES - 1):
        try:
            pushed = _pushed(found, _pages(document, len(found)), _bottoms(document))
        except (AttributeError, ImportError):  # another WeasyPrint: keep the plain layout
            return document
        if not pushed:
            break
        for index in reversed(pushed):
            end = _run_end(found, index)
            found[index:end + 1] = [found[end], *found[index:end]]
        document = render(_tagged(found))
    return document
