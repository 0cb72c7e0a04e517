"""The training loop (``bballs.training.loop``): steps, checkpoints and exact resumption."""

import pytest
import torch
from torch import nn

from bballs.training.checkpoints import read_checkpoint
from bballs.training.loop import TrainConfig, evaluate, fit, model_loss, seed_everything


class TinyDenoiser(nn.Module):
    """A model whose forward returns its own loss, drawing fresh noise every call."""

    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.Conv2d(4, 1, 1))

    def forward(self, x):
        noisy = x + 0.1 * torch.randn_like(x)
        loss = nn.functional.mse_loss(self.net(noisy), x)
        return loss, {"noisy_mse": nn.functional.mse_loss(noisy, x)}


def _frames(n=32, seed=0):
    return torch.rand(n, 1, 8, 8, generator=torch.Generator().manual_seed(seed))


def test_a_model_that_returns_its_loss_trains_and_reports_its_metrics():
    seed_everything(0)
    model, x = TinyDenoiser(), _frames()
    before, _ = evaluate(model, (x,), model_loss)
    history = fit(model, (x,), (x,), model_loss, TrainConfig(epochs=3, batch_size=8, lr=1e-2))
    assert history.val_loss[-1] < before
    assert len(history.metrics["train_noisy_mse"]) == len(history.metrics["val_noisy_mse"]) == 3
    assert history.train_accuracy == []


def test_an_interrupted_noisy_run_resumes_to_the_same_weights(tmp_path):
    x, config = _frames(), TrainConfig(epochs=3, batch_size=8, lr=1e-2)
    seed_everything(0)
    straight = TinyDenoiser()
    fit(straight, (x,), (x,), model_loss, config, checkpoint=tmp_path / "a.pt")
    seed_everything(0)
    partial = TinyDenoiser()
    short = TrainConfig(**{**config.__dict__, "epochs": 1})
    fit(partial, (x,), (x,), model_loss, short, checkpoint=tmp_path / "c.pt")
    state = read_checkpoint(tmp_path / "c.pt")
    state["fingerprint"]["epochs"] = 3  # the same run, stopped after one of three epochs
    torch.save(state, tmp_path / "c.pt")
    seed_everything(123)  # a different global state must not matter on resume
    resumed = TinyDenoiser()
    history = fit(resumed, (x,), (x,), model_loss, config, checkpoint=tmp_path / "c.pt")
    assert history.epochs_done == 3
    for a, b in zip(straight.state_dict().values(), resumed.state_dict().values()):
        torch.testing.assert_close(a, b)


def test_split_tensors_of_different_length_are_refused():
    with pytest.raises(ValueError, match="differ in length"):
        fit(TinyDenoiser(), (_frames(8), _frames(4)), (_frames(8),), model_loss,
            TrainConfig(epochs=1))


def test_saved_notebook_progress_is_one_line_per_loop(monkeypatch, capsys):
    from bballs.training.loop import TEXT_PROGRESS, progress

    monkeypatch.setenv(TEXT_PROGRESS, "1")
    bar = progress(range(4), desc="demo", unit="epoch")
    for _ in bar:
        bar.set_postfix({"loss": "0.5"})
    for _ in progress(range(4), desc="hidden", disable=True):
        pass
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1 and lines[0].startswith("demo: 4 epochs in ")
    assert lines[0].endswith("(loss=0.5)")














