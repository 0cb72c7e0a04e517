"""Task 4 model selection without the test set, and the shift families."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from bballs.classical import counting as classical
from bballs.data import shifts
from bballs.tasks import part1_task4, robustness


def test_shifted_validation_is_built_from_validation_frames_only():
    x = torch.zeros(4, 1, 32, 32)
    x[:, :, 10:13, 10:13] = 1.0
    y = torch.tensor([0, 1, 2, 0])
    frames, labels = robustness.shifted_validation(x, y)
    assert frames.shape == (12, 1, 32, 32) and torch.equal(labels, y.repeat(3))
    areas = sorted({int(a) for a in (frames > 0.5).sum(dim=(1, 2, 3))})
    assert areas == [1, 9, 25]  # eroded, kept and dilated by one pixel


def test_heldout_validation_uses_families_no_recipe_trains_on():
    x = torch.zeros(4, 1, 32, 32)
    x[:, :, 10:14, 10:14] = 0.8
    x[3, :, 0:4, 14:18] = 0.8  # a ball at the top edge: stretching it taller would cut it
    x = shifts.blur(x, 0.7)  # soft edges, as rendered balls have
    y = torch.tensor([0, 1, 2, 0])
    frames, labels = robustness.heldout_validation(x, y)
    n_shifts = len(robustness.HELDOUT_GAMMAS) + len(robustness.HELDOUT_LIGHTING)
    n_stretched = len(frames) - 4 * n_shifts
    assert 4 < n_stretched < 4 * len(robustness.HELDOUT_ASPECTS)  # the cut frame is left out
    assert torch.equal(labels[:4 * n_shifts], y.repeat(n_shifts))
    assert len({round(float(f.max()), 3) for f in frames}) > 3  # gamma and lighting vary it
    import inspect

    from bballs.data import augment
    training = inspect.getsource(augment)
    for name in ("gamma", "illumination", "stretch"):
        assert f"shifts.{name}" not in training


def test_selection_rule_uses_validation_then_spread_then_size():
    metric = part1_task4.SELECTION_METRIC
    rows = [
        {"variant": "a", "study": "ablation", "parameters": 10, f"{metric}_mean": 0.9,
         f"{metric}_std": 0.0, "test_accuracy_mean": 1.0},
        {"variant": "b", "study": "ablation", "parameters": 20, f"{metric}_mean": 0.95,
         f"{metric}_std": 0.02, "test_accuracy_mean": 0.5},
        {"variant": "c", "study": "ablation", "parameters": 5, f"{metric}_mean": 0.95,
         f"{metric}_std": 0.02, "test_accuracy_mean": 0.1},
        {"variant": "d", "study": "labels", "parameters": 1, f"{metric}_mean": 1.0},
    ]
    assert part1_task4.select_by_validation(rows) == "c"  # never looks at the test accuracy
    with pytest.raises(ValueError, match="experiments task4"):
        part1_task4.select_by_validation(rows[3:])


def test_shift_families_change_only_what_they_name():
    families = robustness.shift_families(n=40)
    assert set(families) == {"ball radius", "contrast", "gamma", "blur", "noise",
                             "salt and pepper", "8-bit", "soft profile", "near the walls",
                             "touching balls"}
    for spec in families.values():
        assert len(spec["levels"]) == len(spec["frames"]) == len(spec["labels"])
        for frames, labels in zip(spec["frames"], spec["labels"]):
            assert frames.shape == (len(labels), 32, 32) and set(labels) <= {1, 2, 3}
            assert frames.min() >= 0 and frames.max() <= 1
    contrast = families["contrast"]
    plain = contrast["frames"][contrast["levels"].index(1.0)]
    assert np.allclose(contrast["frames"][0], plain * contrast["levels"][0], atol=1e-6)
    assert sorted(contrast["levels"]) == list(contrast["levels"])
    touching = families["touching balls"]
    assert set(touching["labels"][0]) == {2, 3}
    eight_bit = families["8-bit"]["frames"][1]
    assert np.allclose(eight_bit * 255, np.round(eight_bit * 255), atol=1e-3)
    table = robustness.family_accuracy({"components": classical.count_components}, families)
    assert table["noise"]["components"][0] > 0.8  # no noise: the classical counter works
    assert table["contrast"]["components"][0] < table["contrast"]["components"][3]


def test_selected_recipe_falls_back_to_the_default_without_rows(capsys):
    recipe, rule = part1_task4.selected_recipe([])
    assert recipe is part1_task4.TASK4_FINAL and rule == part1_task4.DEFAULT_RULE
    assert "no Task 4 sweep rows for these data files" in capsys.readouterr().out
    rows = [{"variant": "countnet+long+sym+size+ae", "study": "ablation", "parameters": 1,
             f"{part1_task4.SELECTION_METRIC}_mean": 1.0},
            {"variant": "spec", "study": "ablation", "parameters": 2,
             f"{part1_task4.SELECTION_METRIC}_mean": 0.5}]
    recipe, rule = part1_task4.selected_recipe(rows)  # pre-trained recipes are not candidates
    assert recipe.name == "spec" and rule == part1_task4.SELECTION_RULE


def test_the_frozen_test_is_fresh_and_judged_over_the_seeds():
    from bballs.tasks import frozen_shifts

    frozen = frozen_shifts.frozen_shifts(40, seed=0)
    assert list(frozen) == list(frozen_shifts.SHIFTS)
    families = robustness.shift_families(40, seed=0)
    for _name, spec in frozen.items():
        frames, labels = spec["frames"][0], spec["labels"][0]
        assert frames.shape == (40, 32, 32) and set(labels) <= {1, 2, 3}
        assert not np.allclose(frames, families["contrast"]["frames"][3])  # not the families'
    assert not np.array_equal(frozen["motion blur"]["frames"][0],
                              frozen["grid lines"]["frames"][0])
    counters = {"selected counter": [lambda x: np.full(len(x), 2)] * 3,
                "baseline CNN": [lambda x: np.full(len(x), 1), lambda x: np.full(len(x), 3),
                                 lambda x: np.full(len(x), 2)],
                "connected components": classical.count_components}
    table = frozen_shifts.frozen_table(robustness.family_accuracy(counters, frozen), 3)
    row = table["rows"][0]
    assert row["selected_std"] == 0 and row["baseline_std"] > 0
    assert row["verdict"] == "within seed noise"  # the baseline's seeds spread widely
    assert set(table["columns"]) >= {"shift", "selected", "baseline", "components", "verdict"}
