"""Part 2 data and the Table 3 U-Net trained by the loop (``bballs.tasks.prediction``)."""

from __future__ import annotations

import torch
from torch import nn

from bballs.training.loop import Supervised, TrainConfig, evaluate, seed_everything


def test_unet_training_on_a_small_subset_lowers_the_validation_loss(dataset_dir):
    from bballs.models.spec import UNet
    from bballs.tasks import prediction

    data = prediction.load_prediction_data(dataset_dir, quick=True)
    assert data.x_train.shape == (prediction.QUICK_TRAIN_SIZE, 5, 32, 32)
    seed_everything(0)
    model = UNet()
    before, _ = evaluate(model, data.val, Supervised(nn.MSELoss()))
    history = prediction.train_predictor(model, data, TrainConfig(epochs=1))
    assert history.val_loss[0] < before
    kernels = [p for p in model.parameters() if p.dim() == 4]
    assert all(k.is_contiguous(memory_format=torch.channels_last) for k in kernels)


def test_prediction_split_is_in_order_and_in_time(dataset_dir):
    from bballs.data.dataset import PART2_SEQUENCES, load_npz
    from bballs.tasks import prediction

    frames, _ = load_npz(dataset_dir / PART2_SEQUENCES)
    data = prediction.load_prediction_data(dataset_dir)
    assert len(data.x_train) == 4000 and len(data.x_val) == 1000
    assert torch.equal(data.x_val[0], torch.from_numpy(frames[4000, :5]))
    assert torch.equal(data.y_train[-1], torch.from_numpy(frames[3999, 5:]))
