"""The appendix's layer tables are traced from the models: complete, in call order, with the
shapes the models produce."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from bballs.core.parameters import count_parameters
from bballs.reporting.layer_tables import LAYER_MODELS, describe, layer_rows, layer_tables


@pytest.mark.parametrize("name", sorted(LAYER_MODELS))
def test_each_layer_table_accounts_for_every_parameter(name):
    model, inputs = LAYER_MODELS[name]()
    rows = layer_rows(model, *inputs)
    assert sum(row["parameters"] for row in rows) == count_parameters(model)
    assert [row["index"] for row in rows] == list(range(1, len(rows) + 1))


def test_rows_follow_the_forward_pass_and_fold_activations():
    model = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Flatten(), nn.Linear(4 * 16 * 16, 3))
    rows = layer_rows(model, torch.zeros(2, 1, 32, 32))
    assert [(r["layer"], r["output"]) for r in rows] == [
        ("conv 3×3, 1→4 + ReLU", "4 × 32 × 32"), ("max-pool 2×2 + flatten", "1,024"),
        ("linear 1,024→3", "3")]
    assert model.training  # traced in eval mode, then left as it was


def test_the_frame_predictor_lists_its_decoder_after_its_encoder():
    model, inputs = LAYER_MODELS["layers_frame_predictor"]()
    rows = layer_rows(model, *inputs)
    assert rows[0]["layer"] == "conv 3×3, 7→32" and rows[-1]["output"] == "5 × 32 × 32"
    assert rows[2]["layer"] == "conv 2×2, stride 2, 32→64"
    assert rows[8]["layer"].startswith("transposed conv 2×2, stride 2, 128→128")
    assert describe(nn.GroupNorm(8, 32)) == "group norm (8 groups)"


def test_layer_tables_are_markdown_with_one_row_per_layer():
    tables = layer_tables()
    assert set(tables) == set(LAYER_MODELS)
    countnet = tables["layers_countnet"].splitlines()
    assert countnet[0] == "| # | layer | output shape | params |"
    assert countnet[-1] == "| 9 | linear 64→3 | 3 | 195 |"
