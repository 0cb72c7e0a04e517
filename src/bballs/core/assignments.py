"""The two assignments this project delivers, each handed in on its own: its notebooks, its
report, its hand-in archive and the files only it needs (left out of the other's archive).

A checkout that lacks an assignment's notebooks (an unpacked archive of the other one) runs,
builds and tests only the assignment it holds."""

from __future__ import annotations

from dataclasses import dataclass
from fnmatch import fnmatch
from pathlib import Path


@dataclass(frozen=True)
class Assignment:
    """One assignment: notebooks (in ``notebooks/``), report (``report/<report>.md``), results
    file, archive name and the project-relative glob patterns of the files only it needs."""

    name: str
    notebooks: tuple[str, ...]
    report: str
    results: tuple[str, ...]
    archive: str
    own: tuple[str, ...]

    def owns(self, relative: str | Path) -> bool:
        """Whether the project-relative path ``relative`` is one only this assignment needs."""
        return any(fnmatch(Path(relative).as_posix(), pattern) for pattern in self.own)

    def present(self, root: Path) -> bool:
        """Whether ``root`` holds this assignment (all its notebooks)."""
        return all((root / "notebooks" / name).is_file() for name in self.notebooks)


PROJECT1 = Assignment(
    "project1", ("01_ball_count_classifier.ipynb", "02_unet_video_prediction.ipynb"), "report",
    ("part1.json", "part2.json"), "code.zip",
    ("notebooks/01_*", "notebooks/02_*", "report/report.md", "src/bballs/cli_project1.py",
     "src/bballs/physics_model/*", "src/bballs/tasks/part1_task4.py",
     "src/bballs/tasks/part2_*.py", "src/bballs/tasks/task7_*.py",
     "src/bballs/tasks/robustness.py", "src/bballs/tasks/rollout.py",
     "src/bballs/tasks/prediction.py", "src/bballs/tasks/counting.py",
     "src/bballs/tasks/loop_benchmark.py", "src/bballs/training/experiments.py",
     "src/bballs/models/spec.py", "src/bballs/models/unet_variants.py",
     "src/bballs/data/augment.py", "src/bballs/data/variants.py",
     "src/bballs/classical/counting.py", "src/bballs/reporting/prediction_plots.py",
     "src/bballs/reporting/project1_report.py", "tests/test_inverse_physics.py",
     "tests/test_torch_physics.py", "tests/test_part2_task7.py", "tests/test_variants.py",
     "tests/test_improvements.py", "tests/test_robustness.py", "tests/test_sweep_cache.py",
     "tests/test_unet_variants.py", "tests/test_models.py", "tests/test_training.py",
     "tests/test_shifts.py", "tests/test_report_tables.py"))
LAB3 = Assignment(
    "lab3", ("03_autoencoders.ipynb", "04_image_to_image.ipynb", "05_generative_models.ipynb"),
    "lab3_report", ("lab3.json",), "lab3_code.zip",
    ("notebooks/03_*", "notebooks/04_*", "notebooks/05_*", "report/lab3_report.md",
     "report/lab3/*", "src/bballs/models/autoencoders.py", "src/bballs/models/image_to_image.py",
     "src/bballs/models/generative.py", "src/bballs/tasks/autoencoding.py",
     "src/bballs/tasks/latent_*.py", "src/bballs/tasks/image_to_image*.py",
     "src/bballs/tasks/generation.py", "src/bballs/training/gan.py",
     "src/bballs/classical/restoration.py", "src/bballs/data/corruptions.py",
     "src/bballs/data/frames.py", "src/bballs/reporting/autoencoder_plots.py",
     "src/bballs/reporting/image_to_image_plots.py", "src/bballs/reporting/generative_plots.py",
     "tests/test_autoencoders.py", "tests/test_image_to_image.py", "tests/test_generative.py",
     "tests/test_frames.py"))
ASSIGNMENTS = (PROJECT1, LAB3)


def present(root: Path) -> tuple[Assignment, ...]:
    """The assignments ``root`` holds, in order."""
    return tuple(a for a in ASSIGNMENTS if a.present(root))
