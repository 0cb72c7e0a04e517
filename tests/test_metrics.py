"""Frame metrics against hand-computable cases and against skimage itself."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from bballs.metrics import (
    classification_scores,
    frame_scores,
    last_frame_baseline,
    psnr_from_mse,
    seed_difference,
    seed_row,
    sequence_psnr,
    share_interval,
    video_scores,
)


@pytest.fixture
def frames():
    rng = np.random.default_rng(0)
    target = rng.random((6, 5, 32, 32))
    predicted = np.clip(target + rng.normal(0, 0.1, target.shape), 0, 1)
    return predicted, target


def test_identical_sequences_score_perfectly(frames):
    _, target = frames
    scores = video_scores(target, target)
    assert scores["mse"] == 0 and scores["ssim"] == pytest.approx(1.0)
    assert scores["psnr"] == np.inf and scores["psnr_of_mse"] == np.inf


def test_known_constant_error_gives_known_psnr():
    target = np.full((3, 5, 32, 32), 0.5)
    scores = video_scores(target + 0.1, target)  # MSE = 0.01 -> PSNR = 20 dB exactly
    assert scores["mse"] == pytest.approx(0.01)
    assert scores["psnr"] == pytest.approx(20.0) and scores["psnr_of_mse"] == pytest.approx(20.0)
    assert scores["per_horizon"]["psnr"] == pytest.approx([20.0] * 5)


def test_frame_scores_match_skimage_called_directly(frames):
    predicted, target = frames
    scores = frame_scores(predicted, target)
    for n, t in [(0, 0), (3, 2), (5, 4)]:
        assert scores["ssim"][n, t] == pytest.approx(
            structural_similarity(target[n, t], predicted[n, t], data_range=1.0))
        assert scores["psnr"][n, t] == pytest.approx(
            peak_signal_noise_ratio(target[n, t], predicted[n, t], data_range=1.0))
    assert scores["mse"][2, 1] == pytest.approx(((predicted[2, 1] - target[2, 1]) ** 2).mean())


def test_dataset_scores_average_as_documented(frames):
    predicted, target = frames
    scores, per_frame = video_scores(predicted, target), frame_scores(predicted, target)
    assert scores["ssim"] == pytest.approx(per_frame["ssim"].mean(axis=1).mean())
    per_sequence = [peak_signal_noise_ratio(t, p, data_range=1.0)
                    for t, p in zip(target, predicted)]
    assert scores["psnr"] == pytest.approx(np.mean(per_sequence))
    assert scores["psnr_of_mse"] == pytest.approx(psnr_from_mse(((predicted - target) ** 2).mean()))
    assert scores["psnr_of_mse"] <= scores["psnr"]  # Jensen: log of a mean >= mean of logs
    assert len(scores["per_horizon"]["ssim"]) == 5


def test_predictions_are_clipped_to_the_image_range(frames):
    _, target = frames
    too_bright = np.where(target > 0.5, 7.0, target)  # same image after clipping where target=1
    clipped = np.clip(too_bright, 0, 1)
    assert video_scores(too_bright, target) == video_scores(clipped, target)
    assert sequence_psnr(-target, target) == pytest.approx(sequence_psnr(0 * target, target))


def test_tensors_and_arrays_give_the_same_scores(frames):
    predicted, target = frames
    from_tensors = video_scores(torch.tensor(predicted, dtype=torch.float32),
                                torch.tensor(target, dtype=torch.float32))
    assert from_tensors["ssim"] == pytest.approx(video_scores(predicted, target)["ssim"], abs=1e-5)


def test_last_frame_baseline_repeats_the_fifth_input_frame():
    inputs = torch.arange(2 * 5 * 4 * 4, dtype=torch.float32).reshape(2, 5, 4, 4)
    baseline = last_frame_baseline(inputs)
    assert baseline.shape == (2, 5, 4, 4)
    assert all(torch.equal(baseline[:, t], inputs[:, 4]) for t in range(5))
    assert np.array_equal(last_frame_baseline(inputs.numpy()), baseline.numpy())


def test_mismatched_shapes_are_rejected():
    with pytest.raises(ValueError, match="expected two"):
        frame_scores(np.zeros((2, 5, 32, 32)), np.zeros((2, 4, 32, 32)))


def test_classification_scores():
    scores = classification_scores([1, 2, 3, 3], [1, 2, 2, 3])
    assert scores["accuracy"] == 0.75
    assert scores["confusion_matrix"] == [[1, 0, 0], [0, 1, 0], [0, 1, 1]]


def test_seed_rows_average_and_rank_only_beyond_twice_the_seed_spread():
    wide = seed_row([{"name": "a", "m": 1.0}, {"name": "a", "m": 1.4}, {"name": "a", "m": 1.2}],
                    ["m"])
    assert wide["name"] == "a" and wide["seeds"] == 3
    assert wide["m"] == wide["m_mean"] == pytest.approx(1.2)
    assert wide["m_std"] == pytest.approx(np.std([1.0, 1.4, 1.2], ddof=1))
    narrow = seed_row([{"m": v} for v in (0.9, 0.9, 0.9)], ["m"])
    close = seed_difference(wide, narrow, "m", ("wide", "narrow"))
    assert close["gap"] == pytest.approx(0.3) and close["spread"] == pytest.approx(wide["m_std"])
    assert close["verdict"] == "within seed noise"  # 0.3 < 2 x 0.2
    far = seed_row([{"m": v} for v in (0.1, 0.1, 0.1)], ["m"])
    assert seed_difference(far, wide, "m", ("far", "wide"))["verdict"].startswith("wide is better")
    one = seed_row([{"m": 5.0}], ["m"])
    assert one["m_std"] is None
    assert seed_difference(one, far, "m", ("one", "far"))["verdict"].startswith("not established")
    with pytest.raises(ValueError):
        seed_row([], ["m"])


def test_verdicts_are_told_once_each_with_the_comparisons_they_hold_for():
    from bballs.metrics import verdict_summary

    verdicts = {"1 %": "scratch better", "5 %": "within seed noise", "10 %": "within seed noise",
                "all labels": "within seed noise"}
    assert verdict_summary(verdicts, "with") == (
        "scratch better with 1 %; within seed noise with 5 %, 10 % and all labels")
    assert verdict_summary({"a": "x"}) == "x for a"


def test_the_share_interval_narrows_with_more_frames_and_covers_the_share():
    small, large = (share_interval(int(0.9 * n), n) for n in (100, 1000))
    assert small[0] < large[0] < 0.9 < large[1] < small[1]
    assert large == pytest.approx((0.880, 0.917), abs=0.002)  # Wilson: 0.9 ± 1.96 x 0.0095
    assert share_interval(0, 50)[0] == 0.0


def test_the_paired_difference_counts_the_disagreements_and_tests_them():
    from bballs.metrics import paired_difference

    a = np.array([True] * 10 + [True] * 9 + [False] * 1)
    b = np.array([True] * 10 + [False] * 9 + [True] * 1)
    result = paired_difference(a, b)
    assert (result["only_a"], result["only_b"]) == (9, 1)
    assert result["p_value"] == pytest.approx(22 / 1024)  # two-sided exact binomial, 9 of 10
    assert paired_difference(a, a) == {"only_a": 0, "only_b": 0, "p_value": 1.0}
    with pytest.raises(ValueError, match="one shape"):
        paired_difference(a, b[:5])
