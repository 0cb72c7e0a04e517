"""Float placement in the PDF reports: a table or figure that does not fit on a page moves
below the next paragraph instead of leaving the page half empty."""
import pytest

from bballs.reporting.page_layout import place_floats, units

weasyprint = pytest.importorskip("weasyprint")

STYLE = ("@page { size: A5; margin: 10mm } body { font-size: 10pt; line-height: 1.4 } "
         "table { break-inside: avoid } p.lead { break-after: avoid }")
PARAGRAPH = "<p>" + "A sentence that fills a line of the page with words. " * 6 + "</p>"


def _table(rows: int) -> str:
    body = "".join(f"<tr><td>row {row}</td><td>{row}</td></tr>" for row in range(rows))
    return f"<table><tr><th>name</th><th>value</th></tr>{body}</table>"


def _render(body: str):
    return weasyprint.HTML(string=f"<html><head><style>{STYLE}</style></head>"
                                  f"<body>{body}</body></html>").render()


def _page_of(document, marker: str) -> list[int]:
    """The pages whose text contains ``marker`` (via the anchors of the tagged units)."""
    return [number for number, page in enumerate(document.pages)
            if any(marker in anchor for anchor in page.anchors)]


def test_units_split_the_top_level_blocks_and_join_a_table_to_its_caption():
    html = ('<h2>Title</h2>\n<p class="lead">Lead.</p>\n<div class="wide"><table><tr><td>1'
            '</td></tr></table></div>\n<p><em class="caption">Table 1: a table.</em></p>\n'
            '<p><img src="f.png" />\n<em class="caption">Figure 1: a figure.</em></p>\n'
            '<ul><li>item</li></ul>\n<hr />\n<p>End.</p>')
    found = units(html)
    assert [unit.kind for unit in found] == ["heading", "text", "float", "float", "text",
                                             "other", "text"]
    assert "Table 1" in found[2].html and found[1].leads == found[2].number
    assert "".join(unit.html for unit in found).replace("\n", "") == html.replace("\n", "")


def test_a_table_that_does_not_fit_moves_below_the_next_paragraph():
    body = "\n".join([PARAGRAPH] * 5 + [_table(20), '<p><em class="caption">Table 1.</em></p>']
                     + [PARAGRAPH.replace("A sentence", f"Text {n}") for n in range(4)])
    plain = _render(body)
    placed = place_floats(body, _render)
    first_page_text = placed.pages[0]._page_box
    words = " ".join(box.text for box in first_page_text.descendants()
                     if hasattr(box, "text") and box.text)
    plain_words = " ".join(box.text for box in plain.pages[0]._page_box.descendants()
                           if hasattr(box, "text") and box.text)
    assert "Text 0" not in plain_words  # without placement the table leaves the page short
    assert "Text 0" in words and "row 0" not in words  # the text after it now fills the page
    assert len(placed.pages) <= len(plain.pages)


def test_a_float_never_moves_past_a_heading():
    body = "\n".join([PARAGRAPH] * 5 + [_table(20), "<h2>Next section</h2>", PARAGRAPH])
    placed = place_floats(body, _render)
    order = [unit.kind for unit in units(body)]
    assert order[5:7] == ["float", "heading"]
    heading_pages = _page_of(placed, "u6")
    table_pages = _page_of(placed, "u5")
    assert table_pages and heading_pages and table_pages[0] <= heading_pages[0]
