"""Count-preserving shifts and augmentations of Task 4, and the standardising input layer."""

from __future__ import annotations

import pytest
import torch

from bballs.data import augment, noise, shifts
from bballs.models.improved import FrameStandardiser, NormalisedCountNet


def _balls(n: int = 6) -> torch.Tensor:
    x = torch.zeros(n, 1, 32, 32)
    x[:, :, 12:18, 12:18] = 1.0
    return x


def test_blur_keeps_mass_and_zero_sigma_is_identity():
    x = _balls()
    sigma = torch.tensor([0.0, 0.5, 1.0, 1.5, 2.0, 0.0])
    out = shifts.blur(x, sigma)
    assert torch.equal(out[0], x[0]) and torch.equal(out[5], x[5])
    assert [float(m) for m in out.sum(dim=(1, 2, 3))] == pytest.approx([36.0] * 6, rel=1e-4)
    assert float(out[4].max()) < float(out[1].max()) < 1.0


def test_zoom_scales_the_ball_area_and_refuses_to_cut_balls():
    x = _balls(3)
    out = shifts.zoom(x, torch.tensor([0.5, 1.0, 1.5]))
    areas = [int(a) for a in (out > 0.5).sum(dim=(1, 2, 3))]
    assert areas[0] < areas[1] == 36 < areas[2]
    corner = torch.zeros(2, 1, 32, 32)
    corner[:, :, 0:4, 0:4] = 1.0  # a ball in the corner leaves the frame when zoomed in
    keeps = shifts.zoom_keeps_everything(corner, torch.tensor([1.6, 0.6]), torch.zeros(2, 2))
    assert keeps.tolist() == [False, True]


def test_noise_salt_and_pepper_and_quantisation():
    generator = torch.Generator().manual_seed(0)
    x = torch.full((2, 1, 32, 32), 0.5)
    noisy = noise.gaussian_noise(x, torch.tensor([0.0, 0.1]), generator)
    assert torch.equal(noisy[0], x[0]) and 0.08 < float(noisy[1].std()) < 0.12
    salted = noise.salt_and_pepper(x, 0.1, generator)
    changed = float(((salted == 0) | (salted == 1)).float().mean())
    assert 0.07 < changed < 0.13
    assert float((shifts.quantise(torch.rand(100)) * 255).frac().abs().max()) < 1e-3


def test_paste_balls_sums_counts_up_to_three_and_keeps_labels_in_range():
    generator = torch.Generator().manual_seed(1)
    x = torch.zeros(64, 1, 32, 32)
    y = torch.randint(0, 3, (64,), generator=generator)
    for i in range(64):  # y + 1 small separate balls per frame
        for ball in range(int(y[i]) + 1):
            x[i, :, 2 + 10 * ball:5 + 10 * ball, 2:5] = 1.0
    out, labels = augment.paste_balls(x, y, generator)
    assert labels.max() <= 2 and (labels >= y).all() and (labels > y).any()
    changed = labels != y
    assert torch.equal(out[~changed], x[~changed])
    blobs = (out[changed] > 0.5).sum(dim=(1, 2, 3)) / 9  # bright pixels per 3x3 ball
    assert (blobs <= labels[changed] + 1).all()


def test_robust_augment_keeps_shape_range_and_labels():
    generator = torch.Generator().manual_seed(2)
    x, y = _balls(16), torch.zeros(16, dtype=torch.long)
    out, labels = augment.robust_counting_augment(x, y, generator)
    assert out.shape == x.shape and float(out.min()) >= 0 and float(out.max()) <= 1
    assert (labels >= y).all() and labels.max() <= 2  # pasted balls only add to the count
    assert not torch.equal(out, x)


def test_translate_and_margins_move_content_by_whole_pixels():
    x = torch.zeros(2, 1, 8, 8)
    x[0, 0, 2:4, 3:5] = 1.0
    x[1, 0, 0, 7] = 1.0
    assert shifts.free_margins(x).tolist() == [[3, 3, 2, 4], [7, 0, 0, 7]]
    moved = shifts.translate(x, torch.tensor([-3, 0]), torch.tensor([4, 7]))
    assert moved[0, 0, 6:8, 0:2].sum() == 4 and moved[0].sum() == 4
    assert moved[1, 0, 7, 7] == 1 and moved[1].sum() == 1


def test_towards_walls_keeps_every_ball_and_often_touches_a_wall():
    generator = torch.Generator().manual_seed(3)
    x = torch.zeros(200, 1, 32, 32)
    x[:, :, 12:16, 10:14] = 1.0
    x[:, :, 20:23, 18:21] = 0.5
    out = augment.towards_walls(x, generator)
    assert torch.equal(out.sum(dim=(1, 2, 3)), x.sum(dim=(1, 2, 3)))  # nothing cut off
    touching = (shifts.free_margins(out).amin(dim=1) == 0).float().mean()
    assert 0.6 < float(touching) < 0.95  # per axis half the shifts go to a wall
    labels = torch.zeros(200, dtype=torch.long)
    out, y = augment.walls_counting_augment(x, labels, generator)
    assert out.shape == x.shape and (y >= labels).all() and float(out.max()) <= 1


def test_standardiser_makes_counts_independent_of_the_intensity_scale():
    x = _balls(2) * torch.tensor([0.4, 1.0]).view(2, 1, 1, 1)
    standardised = FrameStandardiser()(x)
    assert torch.allclose(standardised[0], standardised[1])
    model = NormalisedCountNet().eval()
    with torch.no_grad():
        assert torch.allclose(model(x)[0], model(x)[1], atol=1e-5)


def test_stretch_keeps_the_ball_area_and_changes_its_shape():
    x = _balls(2)
    out = shifts.stretch(x, torch.tensor([1.0, 1.69]))
    assert torch.allclose(out[0], x[0], atol=1e-6)
    assert float(out[1].sum()) == pytest.approx(36.0, rel=0.02)
    bright = out[1, 0] > 0.5
    width, height = int(bright.any(dim=0).sum()), int(bright.any(dim=1).sum())
    assert width > 6 > height


def test_frozen_test_shifts_blur_along_one_line_add_a_background_and_cut_balls():
    x = torch.zeros(4, 1, 16, 16)
    x[:, :, 8, 8] = 1.0  # one bright pixel
    blurred = shifts.motion_blur(x, 5, torch.tensor([0, 1, 2, 3]))
    assert torch.allclose(blurred.sum(dim=(1, 2, 3)), torch.ones(4))  # mass kept
    assert (blurred[0, 0, 8, 6:11] == 0.2).all() and blurred[0, 0, 7].sum() == 0  # a row
    assert (blurred[1, 0, 6:11, 8] == 0.2).all()  # a column
    assert blurred[2, 0, 6, 6] == 0.2 and blurred[3, 0, 6, 10] == 0.2  # the two diagonals
    with pytest.raises(ValueError, match="odd"):
        shifts.motion_blur(x, 4, torch.zeros(4))
    textured = shifts.background_texture(torch.zeros(3, 1, 16, 16), 0.3,
                                         torch.Generator().manual_seed(0))
    assert textured.min() >= 0 and textured.max() <= 0.3 and textured.std() > 0.01
    lines = shifts.grid_lines(torch.ones(2, 1, 16, 16), 8, torch.tensor([0, 3]))
    assert (lines[0, 0, 0] == 0).all() and (lines[0, 0, :, 8] == 0).all()
    assert (lines[1, 0, 3] == 0).all() and lines[1, 0, 1, 1] == 1
    assert lines[0].mean() == pytest.approx(1 - (2 * 16 * 2 - 4) / 256)  # 2 rows, 2 columns
