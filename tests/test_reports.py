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
    (report_dir / "lab3" / "03_a.md").write_text("## A {lab3[a][psnr]:.2f} dB {{: .x}}")
    (tmp_path / "results").mkdir()
    lab3 = {"data": {"train": 8000},
            "a": {"psnr": 31.234},
            "b": {"tables": {"b_rows": {"columns": {"name": "model", "acc": "acc. %"},
                                        "rows": [{"name": "linear", "acc": 0.5}],
                                        "percent": ["acc"]}}}}
    (tmp_path / "results" / "lab3.json").write_text(json.dumps(lab3))
    return tmp_path, report_dir


def test_lab3_report_joins_sections_in_name_order_and_renders_declared_tables(lab3_project):
    root, report_dir = lab3_project
    text = render_markdown(root, report_dir, report="lab3_report")
    assert text.index("# Title 8,000") < text.index("## A 31.23 dB {: .x}") < text.index("## B")
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

    assert main(["report", "--out", str(tmp_path / "x.pdf")]) == 1
    assert "--out names one PDF" in capsys.readouterr().err
    assert not (tmp_path / "x.pdf").exists()
