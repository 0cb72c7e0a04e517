"""The loop on Task 2's counting CNN and data: learning, seeding, checkpoints, resumption."""

from __future__ import annotations

import copy

import pytest
import torch
from torch import nn

from bballs.models.spec import BallCounter
from bballs.tasks import counting
from bballs.training.loop import Supervised, TrainConfig, evaluate, seed_everything


@pytest.fixture(scope="module")
def counting_data(dataset_dir):
    return counting.load_counting_data(dataset_dir, quick=True)


def _model(seed=0):
    seed_everything(seed)
    return BallCounter()


def _train_until(model, data, config, checkpoint, stop_after, **fit_options):
    """Run ``fit`` but crash right after the ``stop_after``-th checkpoint's temporary file."""

    class Crash(Exception):
        pass

    calls = {"n": 0}
    original = torch.save

    def save_then_maybe_crash(obj, path, *args, **kwargs):
        original(obj, path, *args, **kwargs)
        calls["n"] += 1
        if calls["n"] == stop_after:
            raise Crash

    torch.save = save_then_maybe_crash
    try:
        with pytest.raises(Crash):
            counting.train_counter(model, data, config, checkpoint=checkpoint, **fit_options)
    finally:
        torch.save = original


def test_quick_data_say_so_and_shrink_the_shift_families(counting_data, dataset_dir):
    from bballs.tasks import robustness

    assert counting_data.quick and not counting.load_counting_data(dataset_dir).quick
    assert counting_data.x_train.shape[0] == counting.QUICK_TRAIN_SIZE
    assert robustness.family_size(True) < robustness.family_size(False) == robustness.FAMILY_SIZE


def test_one_epoch_on_a_small_subset_lowers_the_loss(counting_data):
    model = _model()
    before, _ = evaluate(model, counting_data.train, Supervised(nn.CrossEntropyLoss()))
    history = counting.train_counter(model, counting_data, TrainConfig(epochs=1))
    after, _ = evaluate(model, counting_data.train, Supervised(nn.CrossEntropyLoss()))
    assert after < before
    assert len(history.train_loss) == len(history.val_loss) == len(history.val_accuracy) == 1


def test_same_seed_gives_the_same_weights(counting_data):
    weights = []
    for _ in range(2):
        model = _model(1)
        counting.train_counter(model, counting_data, TrainConfig(epochs=1, seed=1))
        weights.append(model.state_dict())
    assert all(torch.equal(weights[0][k], weights[1][k]) for k in weights[0])


def test_resume_after_interruption_matches_an_uninterrupted_run(counting_data, tmp_path):
    config = TrainConfig(epochs=3, seed=2)
    reference = _model(2)
    reference_history = counting.train_counter(reference, counting_data, config)

    checkpoint = tmp_path / "run.pt"
    # crash while epoch 2's checkpoint is being written: the file must still hold epoch 1 intact
    _train_until(_model(2), counting_data, config, checkpoint, stop_after=2)
    saved = torch.load(checkpoint, weights_only=True)
    assert len(saved["history"]["train_loss"]) == 1
    resumed = _model(99)  # different initial weights: everything must come from the checkpoint
    history = counting.train_counter(resumed, counting_data, config, checkpoint=checkpoint)

    assert history.train_loss == pytest.approx(reference_history.train_loss)
    state, expected = resumed.state_dict(), reference.state_dict()
    assert all(torch.allclose(state[k], expected[k], atol=0, rtol=0) for k in state)


def test_finished_checkpoint_is_reused_without_training(counting_data, tmp_path):
    checkpoint = tmp_path / "done.pt"
    config = TrainConfig(epochs=1)
    first = counting.train_counter(_model(), counting_data, config, checkpoint=checkpoint)
    model = _model(5)
    again = counting.train_counter(model, counting_data, config, checkpoint=checkpoint)
    assert again.train_loss == first.train_loss and again.epoch_seconds == first.epoch_seconds


def test_checkpoint_of_another_configuration_is_not_reused(counting_data, tmp_path, capsys):
    checkpoint = tmp_path / "other.pt"
    counting.train_counter(_model(), counting_data, TrainConfig(epochs=1), checkpoint=checkpoint)
    history = counting.train_counter(_model(), counting_data, TrainConfig(epochs=1, lr=1e-2),
                                     checkpoint=checkpoint)
    assert "another configuration (lr: 0.001 -> 0.01)" in capsys.readouterr().out
    assert len(history.train_loss) == 1


def test_checkpoint_of_other_data_is_retrained(counting_data, tmp_path, capsys):
    checkpoint = tmp_path / "c.pt"
    first = _model()
    counting.train_counter(first, counting_data, TrainConfig(epochs=1), checkpoint=checkpoint)
    same = _model(5)
    counting.train_counter(same, counting_data, TrainConfig(epochs=1), checkpoint=checkpoint)
    assert "reused c.pt" in capsys.readouterr().out
    changed = copy.copy(counting_data)
    changed.x_train = counting_data.x_train.clone()
    changed.x_train[0, 0, 0, 0] += 0.5  # one pixel of one training frame
    again = _model(5)
    counting.train_counter(again, changed, TrainConfig(epochs=1), checkpoint=checkpoint)
    assert "c.pt: data changed: train digest " in capsys.readouterr().out
    assert not all(torch.equal(a, b) for a, b in zip(first.state_dict().values(),
                                                     again.state_dict().values()))


def test_weight_average_is_kept_every_step_resumed_and_loaded_at_the_end(counting_data,
                                                                         tmp_path):
    config = TrainConfig(epochs=2, seed=3)
    raw = _model(3)
    counting.train_counter(raw, counting_data, config)
    averaged = _model(3)
    counting.train_counter(averaged, counting_data, config, checkpoint=tmp_path / "ema.pt",
                           ema_decay=0.9)
    saved = torch.load(tmp_path / "ema.pt", weights_only=True)
    # the average only watches: the raw weights follow the same path as without it
    assert all(torch.equal(saved["model"][k], v) for k, v in raw.state_dict().items())
    assert not all(torch.equal(a, b) for a, b in zip(averaged.parameters(), raw.parameters()))
    assert saved["fingerprint"]["ema_decay"] == 0.9

    checkpoint = tmp_path / "resumed.pt"
    _train_until(_model(3), counting_data, config, checkpoint, stop_after=2, ema_decay=0.9)
    resumed = _model(98)
    counting.train_counter(resumed, counting_data, config, checkpoint=checkpoint, ema_decay=0.9)
    expected = averaged.state_dict()
    assert all(torch.equal(v, expected[k]) for k, v in resumed.state_dict().items())
    with pytest.raises(ValueError, match="ema_decay"):
        counting.train_counter(_model(), counting_data, config, ema_decay=1.0)
