"""The specification's models: every layer's output shape and the parameter counts."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from bballs.core.parameters import count_parameters
from bballs.models.counter import CountNet
from bballs.models.improved import (
    DensityCountNet,
    FrameAutoencoder,
    FramePredictor,
    PhysicsPriorPredictor,
)
from bballs.models.spec import (
    BallCounter,
    ConvBlock,
    Decoder,
    Encoder,
    TransposedConvBlock,
    UNet,
)
from bballs.reporting.summary import model_summary

B = 2

TABLE_2 = [  # (layer type, output shape without the batch dimension)
    (nn.Conv2d, (16, 32, 32)), (nn.ReLU, (16, 32, 32)),
    (nn.Conv2d, (32, 32, 32)), (nn.ReLU, (32, 32, 32)),
    (nn.MaxPool2d, (32, 16, 16)),
    (nn.Conv2d, (32, 16, 16)), (nn.ReLU, (32, 16, 16)),
    (nn.Conv2d, (16, 16, 16)), (nn.ReLU, (16, 16, 16)),
    (nn.MaxPool2d, (16, 8, 8)),
    (nn.Flatten, (1024,)),
    (nn.Linear, (64,)), (nn.ReLU, (64,)),
    (nn.Linear, (3,)),
]


def test_ball_counter_follows_table_2_layer_by_layer():
    model = BallCounter()
    x = torch.zeros(B, 1, 32, 32)
    assert len(model) == len(TABLE_2)
    for layer, (kind, shape) in zip(model, TABLE_2):
        x = layer(x)
        assert isinstance(layer, kind) and tuple(x.shape) == (B, *shape)
    convs = [m for m in model if isinstance(m, nn.Conv2d)]
    assert all(c.kernel_size == (3, 3) and c.stride == (1, 1) for c in convs)
    assert count_parameters(model) == 84_467


def test_conv_blocks_follow_table_3():
    x = torch.zeros(B, 7, 12, 12)
    assert ConvBlock(7, 9)(x).shape == (B, 9, 12, 12)
    assert TransposedConvBlock(7, 9)(x).shape == (B, 9, 24, 24)
    kinds = [type(m) for m in TransposedConvBlock(7, 9)]
    assert kinds == [nn.Conv2d, nn.ReLU, nn.ConvTranspose2d, nn.ReLU]
    assert [type(m) for m in ConvBlock(7, 9)] == [nn.Conv2d, nn.ReLU, nn.Conv2d, nn.ReLU]


def test_encoder_returns_output_and_three_skips_of_table_3c():
    bottom, *skips = Encoder()(torch.zeros(B, 5, 32, 32))
    assert bottom.shape == (B, 128, 4, 4)
    assert [tuple(s.shape) for s in skips] == [(B, 32, 32, 32), (B, 64, 16, 16), (B, 128, 8, 8)]


def test_decoder_follows_table_3d_and_adds_skips():
    decoder = Decoder()
    bottom = torch.randn(B, 128, 4, 4)
    skips = [torch.randn(B, 32, 32, 32), torch.randn(B, 64, 16, 16), torch.randn(B, 128, 8, 8)]
    x = bottom
    for block, skip, shape in zip(decoder.blocks, reversed(skips),
                                  [(128, 8, 8), (64, 16, 16), (32, 32, 32)]):
        x = block(x)
        assert tuple(x.shape) == (B, *shape)
        x = x + skip
    assert decoder.head(x).shape == (B, 5, 32, 32)
    assert torch.equal(decoder(bottom, *skips), decoder.head(x))


def test_unet_skips_are_additions_not_concatenations():
    model = UNet()
    assert model(torch.zeros(B, 5, 32, 32)).shape == (B, 5, 32, 32)
    in_channels = [b[0].in_channels for b in model.decoder.blocks]
    assert in_channels == [128, 128, 64]  # concatenation would double these
    assert count_parameters(model) == 615_339


@pytest.mark.parametrize("model, size, total", [(BallCounter(), (1, 32, 32), "84,467"),
                                                (UNet(), (5, 32, 32), "615,339")])
def test_torchsummary_summary_prints_the_parameter_count(model, size, total):
    text = model_summary(model, size)
    assert f"Total params: {total}" in text
    assert max(len(line) for line in text.splitlines()) == 64  # torchsummary's own width


def test_a_module_with_several_outputs_shows_its_first_shape_and_how_many_more():
    text = model_summary(UNet(), (5, 32, 32))
    assert "Encoder-16    [-1, 128, 4, 4] +3 more               0" in text
    assert "(memory estimate omitted" in text and "Estimated Total Size" not in text


def test_showcase_takes_the_first_sequence_of_each_count_from_the_largest():

    from bballs.tasks.prediction import showcase

    counts = np.array([1, 1, 2, 3, 2, 3])
    assert showcase(counts).tolist() == [3, 2]
    assert showcase(counts, 3).tolist() == [3, 2, 0]
    assert showcase(np.array([1, 1])).tolist() == [0]


@pytest.mark.parametrize("model, shape, out", [
    (CountNet(), (2, 1, 32, 32), (2, 3)),
    (DensityCountNet(), (2, 1, 32, 32), (2, 3)),
    (FrameAutoencoder(), (2, 1, 32, 32), (2, 1, 32, 32)),
    (FramePredictor(), (2, 5, 32, 32), (2, 5, 32, 32)),
])
def test_improved_models_have_the_right_shapes(model, shape, out):
    assert model(torch.rand(shape)).shape == out


def test_density_counter_predicts_the_count_nearest_to_its_density_sum():
    model = DensityCountNet().eval()
    with torch.no_grad():
        model.density.bias.fill_(0.0)
        x = torch.rand(6, 1, 32, 32)
        count = model.count(x)
        expected = (count[:, None] - torch.arange(1, 4)).abs().argmin(dim=1)
        assert torch.equal(model(x).argmax(dim=1), expected)
        assert model.density_map(x).shape == (6, 1, 16, 16) and (model.density_map(x) >= 0).all()


def test_density_counter_sees_only_a_neighbourhood():
    """A pixel changed in one corner leaves the density in the far corner unchanged."""
    model = DensityCountNet().eval()
    x = torch.rand(1, 1, 32, 32)
    y = x.clone()
    y[..., 0, 0] += 1.0
    with torch.no_grad():
        near, far = (model.density_map(x) - model.density_map(y)).abs()[0, 0, [0, 15], [0, 15]]
    assert near > 0 and far == 0


def test_frame_predictor_starts_as_the_last_frame_and_stays_in_range():
    x = torch.rand(3, 5, 32, 32)
    y = FramePredictor()(x)
    assert torch.allclose(y, x[:, -1:].clamp(1e-3, 1 - 1e-3).expand_as(y), atol=1e-5)
    assert y.min() >= 0 and y.max() <= 1


def test_physics_prior_model_starts_from_the_forecast():
    x = torch.rand(2, 10, 32, 32)
    y = PhysicsPriorPredictor()(x)
    assert torch.allclose(y, x[:, 5:].clamp(1e-3, 1 - 1e-3), atol=1e-5)
