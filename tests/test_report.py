"""The reports: sections in name order, tables declared in the results, strict placeholders, the
author block."""

import json

import pytest

from bballs.core.assignments import ASSIGNMENTS
from bballs.reporting.report import REPORTS, ReportError, ReportSpec, render_markdown


@pytest.fixture
def sectioned_project(tmp_path, monkeypatch):
    """A project with one report made of a template and section files, reading
    ``results/demo.json``."""
    monkeypatch.setitem(REPORTS, "demo_report", ReportSpec(
        "demo_report", "demo_report.md", ("demo",), "bballs.reporting.tables:declared_tables",
        "demo"))
    report_dir = tmp_path / "report"
    (report_dir / "demo").mkdir(parents=True)
    (report_dir / "demo_report.md").write_text("# Title {demo[data][train]:,}")
    (report_dir / "demo" / "05_b.md").write_text("## B\n{table[b_rows]}")
    (report_dir / "demo" / "03_a.md").write_text(
        "## A {demo[a][psnr]:.2f} dB {{: .x}} seeds {demo[a][seeds]:list} "
        "by {demo[a][gain]:points} {demo[a][fd]:sig} {demo[a][mse]:mse} {demo[a][mse]:db} "
        "lr {demo[a][lr]:lr}")
    (tmp_path / "results").mkdir()
    demo = {"data": {"train": 8000},
            "a": {"psnr": 31.234, "seeds": [0, 1, 2], "gain": 0.0687, "fd": 1009.17,
                  "mse": 0.0029754, "lr": 0.0002},
            "b": {"tables": {"b_rows": {"columns": {"name": "model", "acc": "acc. %"},
                                        "rows": [{"name": "linear", "acc": 0.5}],
                                        "percent": ["acc"]}}}}
    (tmp_path / "results" / "demo.json").write_text(json.dumps(demo))
    return tmp_path, report_dir


def test_a_report_joins_sections_in_name_order_and_renders_declared_tables(sectioned_project):
    root, report_dir = sectioned_project
    text = render_markdown(root, report_dir, report="demo_report")
    assert text.index("# Title 8,000") < text.index("## A 31.23 dB {: .x}") < text.index("## B")
    assert "seeds 0, 1 and 2 by 6.9 points 1,010 2.975 25.26 dB lr 2×10⁻⁴" in text  # list,
    # points, digits, an MSE in thousandths and as its PSNR, a learning rate
    assert "| model | acc. % |" in text and "| linear | 50.0 |" in text


def test_a_report_names_every_missing_value(sectioned_project):
    root, report_dir = sectioned_project
    (report_dir / "demo" / "04_c.md").write_text("{demo[c][ssim]} {table[nowhere]}")
    with pytest.raises(ReportError, match=r"demo_report: 2 report values missing.*demo\[c\]"):
        render_markdown(root, report_dir, report="demo_report")
    assert "n/a n/a" in render_markdown(root, report_dir, allow_missing=True,
                                        report="demo_report")


def test_every_assignment_has_its_report():
    assert set(REPORTS) == {a.report for a in ASSIGNMENTS}
    for assignment in ASSIGNMENTS:
        spec = REPORTS[assignment.report]
        assert spec.sources == tuple(name.removesuffix(".json") for name in assignment.results)


def test_report_command_refuses_one_out_path_for_two_reports(tmp_path, capsys):
    from bballs.cli import main

    assert main(["report", "--which", *REPORTS, *REPORTS, "--out",
                 str(tmp_path / "x.pdf")]) == 1
    assert "--out names one PDF" in capsys.readouterr().err
    assert not (tmp_path / "x.pdf").exists()


def test_author_command_fills_every_title_block_and_removes_the_banner(tmp_path, capsys):
    from bballs.cli import main
    from bballs.reporting.author import page_banner_css, read_author, warning

    template = read_author(tmp_path, ASSIGNMENTS[0].report)
    assert not template["filled"] and "Fill in report/author.ini" in page_banner_css(template)
    assert "still holds the template" in warning(tmp_path)
    assert template["course"] == ASSIGNMENTS[0].course

    last = ASSIGNMENTS[-1]
    assert main(["author", "--name", "Ada Lovelace", "--id", "123", "--email", "ada@x.org",
                 f"--{last.course_key.replace('_', '-')}", "My course",
                 "--report-dir", str(tmp_path)]) == 0
    assert "wrote" in capsys.readouterr().out
    filled = read_author(tmp_path, last.report)
    assert filled["filled"] and page_banner_css(filled) == "" and warning(tmp_path) is None
    assert filled["name"] == "Ada Lovelace" and filled["course"] == "My course"
    for other in ASSIGNMENTS[:-1]:
        assert read_author(tmp_path, other.report)["course"] == other.course


def test_author_command_refuses_the_template_and_bad_emails(tmp_path, capsys):
    from bballs.cli import main

    args = ["author", "--report-dir", str(tmp_path), "--id", "1"]
    assert main([*args, "--name", "Your Full Name", "--email", "a@b.c"]) == 1
    assert main([*args, "--name", "Ada", "--email", "nope"]) == 1
    assert "not an email address" in capsys.readouterr().err
    assert not (tmp_path / "author.ini").exists()


def test_unfilled_author_block_prints_a_banner_on_every_page(tmp_path):
    import weasyprint
    from pypdf import PdfReader

    from bballs.reporting.author import BANNER, page_banner_css, read_author

    css = page_banner_css(read_author(tmp_path))  # no author.ini: the template's values
    html = ("<html><head><style>" + css + "</style></head><body>"
            + "<p style='page-break-after: always'>page</p>" * 3 + "</body></html>")
    weasyprint.HTML(string=html).write_pdf(tmp_path / "b.pdf")
    pages = PdfReader(tmp_path / "b.pdf").pages
    assert len(pages) >= 3
    assert all("Fill in report/author.ini" in page.extract_text() for page in pages)
    assert BANNER.startswith("Fill in report/author.ini")


def test_each_present_assignments_report_finds_its_table_maker():
    from bballs.core.assignments import present
    from bballs.core.files import project_root

    for assignment in present(project_root()):
        assert callable(REPORTS[assignment.report].table_maker())


def test_report_fills_numbers_from_results_and_can_show_missing_ones(tmp_path):
    from bballs.core.files import update_results
    from bballs.reporting.report import MISSING, build, render_markdown

    update_results(tmp_path / "results" / "part1.json", "spec",
                   {"test_accuracy": 0.875, "parameters": 84467})
    update_results(tmp_path / "results" / "part2.json", "last_frame",
                   {"psnr": float("inf"), "ssim": 1.0, "mse": 0.0, "psnr_of_mse": 1.0})
    text = render_markdown(tmp_path, allow_missing=True)
    assert "87.5%" in text and "84,467" in text and MISSING in text
    assert "inf" in text  # a non-finite PSNR stored as "inf" formats like the float
    pdf = build(root=tmp_path, out=tmp_path / "r.pdf", allow_missing=True)
    from pypdf import PdfReader

    assert "87.5%" in "".join(p.extract_text() for p in PdfReader(pdf).pages)


def test_the_machine_line_names_the_processor_and_pytorch_in_plain_words():
    from bballs.core.machine import machine_line

    line = machine_line({"cores": 2, "cpu": "Intel(R) Core(TM) i7-8550U CPU @ 1.80GHz",
                         "torch_threads": 1, "torch": "2.14.1+cu130", "gpu": None})
    assert line == "2 CPU cores (Intel Core i7-8550U), 1 PyTorch thread, no GPU; PyTorch 2.14"


def test_a_section_run_on_another_machine_is_named_beside_the_files_machine():
    from bballs.reporting.report import _machine

    intel = {"cores": 2, "cpu": "Intel Xeon", "torch_threads": 2, "torch": "2.14.1", "gpu": None}
    amd = {**intel, "cpu": "AMD EPYC", "torch_threads": 1}
    lab = {"machine": intel, "autoencoders": {"x": 1}, "image_to_image": {"machine": amd}}
    assert _machine({"lab3": lab}) == (
        "2 CPU cores (AMD EPYC), 1 PyTorch thread, no GPU, PyTorch 2.14 (image-to-image work) "
        "and 2 CPU cores (Intel Xeon), 2 PyTorch threads, no GPU, PyTorch 2.14 (the rest)")
    assert _machine({"lab3": {"machine": intel}}).startswith("2 CPU cores (Intel Xeon)")
    assert _machine({"a": {"machine": intel}, "b": {"machine": intel}}).count("Intel") == 1
    assert _machine({}).startswith("a machine these results do not record")
