"""The Table 3 U-Net with other skips: same encoder and blocks, only the skips change."""

from __future__ import annotations

import torch

from bballs.core.parameters import count_parameters
from bballs.models.spec import UNet
from bballs.models.unet_variants import UNetConcat, UNetNoSkip
from bballs.tasks import part2_recipes, prediction
from bballs.training import experiments


def test_variants_keep_the_spec_encoder_and_output_shape():
    x = torch.rand(2, 5, 32, 32)
    for model in (UNetNoSkip(), UNetConcat()):
        assert model(x).shape == (2, 5, 32, 32)
        assert count_parameters(model.encoder) == count_parameters(UNet().encoder)


def test_no_skip_decoder_ignores_the_skips():
    model = UNetNoSkip()
    out, *skips = model.encoder(torch.rand(1, 5, 32, 32))
    noise = [torch.rand_like(s) for s in skips]
    assert torch.equal(model.decoder(out, *skips), model.decoder(out, *noise))
    assert count_parameters(model) == count_parameters(UNet())  # addition adds no weights


def test_concat_decoder_doubles_the_channels_after_each_skip():
    model = UNetConcat()
    assert [b[0].in_channels for b in model.decoder.blocks] == [128, 256, 128]
    assert model.decoder.head[0].in_channels == 64
    # 3x3 convolutions over the extra skip channels: (128 + 64) * k * 9 weights more
    extra = 128 * 64 * 9 + 64 * 32 * 9 + 32 * 5 * 9
    assert count_parameters(model) == count_parameters(UNet()) + extra


def test_task5_sweep_trains_each_skip_variant_with_the_task6_recipe(dataset_dir, tmp_path):
    from bballs.core.files import output_paths

    context = experiments.Context(output_paths(tmp_path), dataset_dir, quick=True)
    rows = experiments.sweep(part2_recipes.TASK5, context, seeds=(0,))
    assert sorted(r["model"] for r in rows) == ["UNet", "UNetConcat", "UNetNoSkip"]
    assert all(v.recipe == prediction.SPEC_RECIPE for v in part2_recipes.TASK5.variants)
