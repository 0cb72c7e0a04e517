"""Both reports: sections in name order, tables declared in the results, strict placeholders."""

import json

import pytest

from bballs.reporting.report import REPORTS, ReportError, ReportSpec, render_markdown


@pytest.fixture
def lab3_project(tmp_path, monkeypatch):
    report_dir = tmp_path / "report"
    (report_dir / "lab3").mkdir(parents=True)
    (report_dir / "lab3_report.md").write_text("# Title {lab3[data][train]:,}")
    (report_dir / "lab3" / "05_b.md").write_text("## B\n{table[b_rows]}")
    (report_dir / "lab3" / "03_a.md").write_text("## A {lab3[a][psnr]:.2f} dB {{: .x}} "
                                                  "seeds {lab3[a][seeds]:list}")
    (tmp_path / "results").mkdir()
    lab3 = {"data": {"train": 8000},
            "a": {"psnr": 31.234, "seeds": [0, 1, 2]},
            "b": {"tables": {"b_rows": {"columns": {"name": "model", "acc": "acc. %"},
                                        "rows": [{"name": "linear", "acc": 0.5}],
                                        "percent": ["acc"]}}}}
    (tmp_path / "results" / "lab3.json").write_text(json.dumps(lab3))
    return tmp_path, report_dir


def test_lab3_report_joins_sections_in_name_order_and_renders_declared_tables(lab3_project):
    root, report_dir = lab3_project
    text = render_markdown(root, report_dir, report="lab3_report")
    assert text.index("# Title 8,000") < text.index("## A 31.23 dB {: .x}") < text.index("## B")
    assert "seeds 0, 1 and 2" in text  # a list in words
    assert "| model | acc. % |" in text and "| linear | 50.0 |" in text


def test_lab3_report_names_every_missing_value(lab3_project):
    root, report_dir = lab3_project
    (report_dir / "lab3" / "04_c.md").write_text("{lab3[c][ssim]} {table[nowhere]}")
    with pytest.raises(ReportError, match=r"lab3_report: 2 report values missing.*lab3\[c\]"):
        render_markdown(root, report_dir, report="lab3_report")
    assert "n/a n/a" in render_markdown(root, report_dir, allow_missing=True,
                                        report="lab3_report")


def test_both_reports_are_registered():
    assert set(REPORTS) == {"report", "lab3_report"}
    assert all(isinstance(spec, ReportSpec) for spec in REPORTS.values())
    assert REPORTS["lab3_report"].sources == ("lab3",)


def test_report_command_refuses_one_out_path_for_two_reports(tmp_path, capsys):
    from bballs.cli import main

    assert main(["report", "--which", "report", "lab3_report", "--out",
                 str(tmp_path / "x.pdf")]) == 1
    assert "--out names one PDF" in capsys.readouterr().err
    assert not (tmp_path / "x.pdf").exists()


def test_author_command_fills_both_title_blocks_and_removes_the_banner(lab3_project, capsys):
    from bballs.cli import main
    from bballs.reporting.author import page_banner_css, read_author, warning

    root, report_dir = lab3_project
    (report_dir / "lab3_report.md").write_text("{author[name]} {author[course]}")
    template = read_author(report_dir, "lab3_report")
    assert not template["filled"] and "Fill in report/author.ini" in page_banner_css(template)
    assert "still holds the template" in warning(report_dir)
    assert "TNM112" in render_markdown(root, report_dir, report="lab3_report")

    assert main(["author", "--name", "Ada Lovelace", "--id", "123", "--email", "ada@x.org",
                 "--lab3-course", "My course", "--report-dir", str(report_dir)]) == 0
    assert "wrote" in capsys.readouterr().out
    filled = read_author(report_dir, "lab3_report")
    assert filled["filled"] and page_banner_css(filled) == "" and warning(report_dir) is None
    assert render_markdown(root, report_dir, report="lab3_report").startswith(
        "Ada Lovelace My course")
    assert read_author(report_dir, "report")["course"].startswith("HKUST CSIT 6000M")


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


def test_only_values_of_the_sweeps_fall_back_to_n_a():
    from bballs.reporting.pipeline import from_sweeps

    assert from_sweeps("part1[improved][by_variant][spec][test_accuracy_mean]")
    assert from_sweeps("table[task4_robustness]") and from_sweeps("table[skips]")
    assert not from_sweeps("part1[spec][test_accuracy]")
    assert not from_sweeps("part2[physics_model][ssim]")


def test_each_present_assignments_report_finds_its_table_maker():
    from bballs.core.assignments import present
    from bballs.core.files import project_root

    for assignment in present(project_root()):
        assert callable(REPORTS[assignment.report].table_maker())
