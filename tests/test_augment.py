"""Training-time augmentations of frames and sequences (``bballs.data.augment``)."""

from __future__ import annotations

import torch
from generated import generated_sequences

from bballs.data import augment


def test_dihedral_augmentation_keeps_pixel_values_and_is_seeded():
    x = torch.rand(16, 1, 32, 32)
    a = augment.dihedral(x, torch.Generator().manual_seed(0))
    b = augment.dihedral(x, torch.Generator().manual_seed(0))
    assert torch.equal(a, b)
    assert torch.allclose(a.sum(dim=(1, 2, 3)), x.sum(dim=(1, 2, 3)))
    assert not torch.equal(a, x)


def test_ball_size_jitter_grows_or_shrinks_balls_in_place():
    frames, _ = generated_sequences(8, 1)
    x = torch.from_numpy(frames)
    out = augment.resize_balls(x, torch.Generator().manual_seed(1))
    area_in, area_out = (x > 0.5).sum(dim=(1, 2, 3)), (out > 0.5).sum(dim=(1, 2, 3))
    assert (area_out != area_in).any()
    centre = lambda img: (img * torch.arange(32.0)).sum() / img.sum()  # noqa: E731
    for before, after in zip(x[:, 0], out[:, 0]):
        assert abs(centre(before) - centre(after)) < 0.5


def test_sequence_augmentation_transforms_inputs_and_targets_together():
    frames, _ = generated_sequences(8, 10)
    seq = torch.from_numpy(frames)
    x, y = augment.sequence_augment(seq[:, :5], seq[:, 5:], torch.Generator().manual_seed(3))
    joined = torch.cat([x, y], dim=1)
    for i in range(8):
        views = [seq[i], seq[i].flip(0)]
        variants = []
        for v in views:
            for t in (v, v.transpose(-1, -2)):
                variants += [t, t.flip(-1), t.flip(-2), t.flip(-1).flip(-2)]
        assert any(torch.equal(joined[i], v) for v in variants)


def test_every_augmentation_name_is_made_of_parts_the_report_describes():
    from bballs.data import augment as aug

    parts = {name for name, _ in aug.building_blocks()}
    augmentations = (aug.symmetry_augment, aug.counting_augment, aug.scale_augment,
                     aug.robust_counting_augment, aug.walls_counting_augment,
                     aug.sequence_symmetries, aug.sequence_augment)
    for function in augmentations:
        named = aug.short_name(function).replace(" (sequences)", "").split(" + ")
        assert set(named) <= parts, named
