"""`python -m bballs check-data`: file inspection, train-vs-test shift, physics fit, problems."""

from __future__ import annotations

import re
import shutil

import numpy as np
import pytest

from bballs.cli import assignment_commands, main
from bballs.data import check as dcheck
from bballs.data.dataset import (
    PART1_TEST,
    PART1_TRAIN,
    PART2_SEQUENCES,
    TEST_RADIUS_RANGE,
    FileSpec,
    generate_dataset,
)

SMALL = (FileSpec(PART1_TRAIN, 120, 1), FileSpec(PART1_TEST, 60, 1, TEST_RADIUS_RANGE),
         FileSpec(PART2_SEQUENCES, 200, 10))
#: The core project's physics fit of the Part 2 file is part of ``check-data`` where its code is
#: present (not in the second assignment's archive).
PHYSICS = bool(assignment_commands())
NO_PHYSICS = ["--physics-sequences", "0"] if PHYSICS else []
needs_physics = pytest.mark.skipif(not PHYSICS, reason="the core project's physics check is "
                                                       "not part of this archive")


@pytest.fixture(scope="module")
def ours(tmp_path_factory):
    folder = tmp_path_factory.mktemp("ours")
    generate_dataset(folder, seed=1, files=SMALL)
    return folder


@pytest.fixture
def copy(ours, tmp_path):
    """A copy of our small files that a test may alter."""
    folder = tmp_path / "copy"
    folder.mkdir()
    for spec in SMALL:
        shutil.copy(ours / spec.name, folder / spec.name)
    return folder


def rewrite(path, drop=(), **changes):
    """Save the file again with some arrays replaced, renamed (via ``drop``) or added."""
    with np.load(path, allow_pickle=False) as archive:
        arrays = {key: archive[key] for key in archive.files if key not in drop}
    arrays.update(changes)
    np.savez_compressed(path, **arrays)


def run(capsys, *argv):
    code = main(["check-data", *map(str, argv)])
    captured = capsys.readouterr()
    assert "Traceback" not in captured.out + captured.err
    problems = [line for line in captured.out.splitlines() if line.startswith("problem:")]
    return code, captured.out, problems


def reproduced_share(out: str) -> float:
    return float(re.search(r"reproduced \(per-sequence MSE < [^)]*\): (\d+)%", out).group(1)) / 100


def test_our_files_are_usable_with_keys_counts_and_the_radius_shift(ours, capsys):
    code, out, problems = run(capsys, ours)
    assert code == 0 and problems == []
    assert re.search(r"data\s+float32\s+\(120, 1, 1024\)\s+range \[0, 1\]", out)
    assert "label counts  1: 40, 2: 40, 3: 40" in out
    assert "test ball sizes are" in out and "more varied" in out  # the radius range of the test
    assert "noisier" not in out and "larger in area" not in out
    assert not PHYSICS or reproduced_share(out) >= 0.8  # short identification, 64 sequences


@needs_physics
def test_physics_check_rejects_sequences_shuffled_in_time(copy, capsys):
    path = copy / PART2_SEQUENCES
    with np.load(path) as archive:
        data = archive["data"]
    rng = np.random.default_rng(0)
    rewrite(path, data=np.stack([sequence[rng.permutation(10)] for sequence in data]))
    code, out, problems = run(capsys, copy, "--physics-sequences", "32")
    assert code == 0 and problems == []  # usable, just not our physics
    assert reproduced_share(out) <= 0.2
    assert "does not reproduce" in out


def test_uint8_data_and_key_label_are_accepted(copy, capsys):
    for name in (PART1_TRAIN, PART1_TEST):
        with np.load(copy / name) as archive:
            data, labels = archive["data"], archive["labels"]
        rewrite(copy / name, drop=("labels",), label=labels,
                data=np.round(data * 255).astype(np.uint8))
    code, out, problems = run(capsys, copy, *NO_PHYSICS)
    assert code == 0 and problems == []
    assert re.search(r"data\s+uint8\s+\(120, 1, 1024\)\s+range \[0, 255\]", out)
    assert re.search(r"\n  label\s+int64", out)
    assert "noisier" not in out  # rounding to 8 bits is not noise


def test_noise_added_to_the_test_file_is_reported(copy, capsys):
    with np.load(copy / PART1_TEST) as archive:
        data = archive["data"]
    noisy = data + np.random.default_rng(0).normal(0, 0.05, data.shape)
    rewrite(copy / PART1_TEST, data=np.clip(noisy, 0, 1).astype(np.float32))
    code, out, problems = run(capsys, copy, *NO_PHYSICS)
    assert code == 0 and problems == []
    assert "test backgrounds are much noisier" in out


def test_larger_balls_in_the_test_file_are_reported(ours, tmp_path):
    files = (SMALL[0], FileSpec(PART1_TEST, 60, 1, (1.6, 1.6)), SMALL[2])
    generate_dataset(tmp_path, seed=1, files=files, only=(PART1_TEST,))
    shutil.copy(ours / PART1_TRAIN, tmp_path / PART1_TRAIN)
    shutil.copy(ours / PART2_SEQUENCES, tmp_path / PART2_SEQUENCES)
    report = dcheck.check_folder(tmp_path)
    row = next(r for r in report.shift if r.name.startswith("bright area per ball"))
    assert row.differs and 1.5 < row.ratio < 2.1  # (1.6 / 1.2)^2 = 1.78
    assert "test balls are 1.8x larger in area" in dcheck.format_report(report)
    assert not next(r for r in report.shift if r.name.startswith("noise")).differs


def _missing(path):
    path.unlink()


def _truncated(path):
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _garbage(path):
    path.write_bytes(b"not an archive" * 100)


def _pickled(path):
    rewrite(path, data=np.array([[1, 2], "x"], dtype=object))


def _labels_out_of_range(path):
    with np.load(path) as archive:
        rewrite(path, labels=archive["labels"] + 3)


def _wrong_shape(path):
    with np.load(path) as archive:
        rewrite(path, data=archive["data"][..., :1000])


def _too_few_frames(path):
    with np.load(path) as archive:
        rewrite(path, data=archive["data"][:, :5])


BROKEN = {
    "missing": (_missing, PART1_TEST, "dataset file not found"),
    "truncated": (_truncated, PART2_SEQUENCES, "corrupt or truncated"),
    "garbage": (_garbage, PART1_TRAIN, "not a readable .npz archive"),
    "pickled": (_pickled, PART1_TRAIN, "object (pickled) array"),
    "labels": (_labels_out_of_range, PART1_TEST, "must count 1 to 3 balls"),
    "shape": (_wrong_shape, PART1_TRAIN, "expected (N, T, 1024)"),
    "frames": (_too_few_frames, PART2_SEQUENCES, "need 10 frames"),
}


@pytest.mark.parametrize("case", list(BROKEN))
def test_a_broken_file_gives_exit_1_and_one_problem_line(copy, capsys, case):
    damage, name, message = BROKEN[case]
    damage(copy / name)
    code, out, problems = run(capsys, copy, *([] if name == PART2_SEQUENCES else NO_PHYSICS))
    assert code == 1 and len(problems) == 1
    assert name in problems[0] and message in problems[0]
    if case == "pickled":
        assert re.search(r"data\s+object\s+\(2,\).*needs pickle, not read", out)
    if name == PART2_SEQUENCES and PHYSICS:
        assert "Physics model fit: skipped" in out
