"""The adversarial loop (``bballs.training.gan``): training, selection and conditioning."""

from __future__ import annotations

import copy

import pytest
import torch
import torch.nn.functional as F
from rendered_frames import rendered
from torch import nn

from bballs.core.parameters import count_parameters
from bballs.models.generative import (
    DCGANDiscriminator,
    DCGANGenerator,
)
from bballs.tasks import generation
from bballs.training.checkpoints import History, read_checkpoint
from bballs.training.gan import (
    critic_loss,
    fit_gan,
    generator_loss,
    r1_penalty,
    refresh_batch_norm,
)
from bballs.training.loop import TrainConfig, seed_everything


def _small_frames(n=32, seed=0):
    return torch.rand(n, 1, 8, 8, generator=torch.Generator().manual_seed(seed))


class TinyGenerator(nn.Module):
    def __init__(self, latent=4):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(latent, 64), nn.Sigmoid())

    def forward(self, z):
        return self.net(z).view(-1, 1, 8, 8)


def _critic():
    return nn.Sequential(nn.Flatten(), nn.Linear(64, 16), nn.LeakyReLU(0.2), nn.Linear(16, 1))


class ScriptedScore:
    """A selection score that returns the scripted values in turn and keeps each scored
    generator's weights."""

    def __init__(self, scores):
        self.scores, self.seen = list(scores), []

    def __call__(self, generator):
        assert not generator.training
        self.seen.append(copy.deepcopy(generator.state_dict()))
        return self.scores[len(self.seen) - 1]


def test_gan_trains_one_epoch(tmp_path):
    frames = rendered([[(3.0, 3.0)], [(6.0, 4.0), (2.0, 8.0)]] * 8).frames
    run = generation.train_gan(frames, TrainConfig(epochs=1, batch_size=8, lr=2e-4),
                               tmp_path / "gan.pt")
    assert run.history.epochs_done == 1
    assert set(run.history.metrics) >= {"train_d_real", "train_d_fake"}
    samples = generation.gan_samples(run.generator, 7, batch_size=3)
    assert samples.shape == (7, 1, 32, 32)
    assert torch.allclose(samples, generation.gan_samples(run.generator, 7), atol=1e-5)
    rows, alphas = generation.interpolate(run.generator, 2, 5)
    assert rows.shape == (2, 5, 32, 32) and alphas[0] == 0 and alphas[-1] == 1
    # a = 1 is the generator's image of z1 alone: the same frame a direct call gives
    z1 = torch.randn(2, 2, 64, generator=torch.Generator().manual_seed(0))[0]
    with torch.no_grad():
        assert torch.allclose(rows[:, -1], run.generator(z1)[:, 0], atol=1e-5)
    with pytest.raises(ValueError):
        generation.interpolate(run.generator, 1, 1)


def test_train_gan_ends_with_the_weight_average_it_is_given(tmp_path):
    frames = rendered([[(3.0, 3.0)], [(6.0, 4.0), (2.0, 8.0)]] * 8).frames
    config = TrainConfig(epochs=2, batch_size=8, lr=2e-3)
    raw = generation.train_gan(frames, config, tmp_path / "raw.pt").generator
    averaged = generation.train_gan(frames, config, tmp_path / "ema.pt",
                                    ema_decay=0.5).generator
    slow = generation.train_gan(frames, config, tmp_path / "slow.pt",
                                ema_decay=0.999).generator
    first = {name: p.detach() for name, p in raw.named_parameters()}
    distance = {name: sum(float((p.detach() - first[n]).abs().sum())
                          for n, p in model.named_parameters())
                for name, model in (("averaged", averaged), ("slow", slow))}
    assert 0 < distance["averaged"] < distance["slow"]  # a slower average lags further behind


def test_gan_selection_keeps_the_best_scored_epoch_and_its_checkpoint(tmp_path, capsys):
    frames, config = _small_frames(64), TrainConfig(epochs=4, batch_size=16, lr=2e-3)
    score = ScriptedScore([5.0, 2.0, 3.0])  # epochs 2, 3, 4: the best is epoch 3
    seed_everything(0)
    g = TinyGenerator()
    history = fit_gan(g, _critic(), frames, config, latent_dim=4, select=score, select_after=1,
                      checkpoint=tmp_path / "g.pt")
    assert history.metrics["train_selection_score"] == [5.0, 2.0, 3.0]
    assert g.training  # the mode it was in
    for a, b, last in zip(g.state_dict().values(), score.seen[1].values(),
                          score.seen[2].values()):
        torch.testing.assert_close(a, b)
        assert not torch.equal(a, last)
    g2 = TinyGenerator()  # a finished run reused from its checkpoint ends on the same weights
    fit_gan(g2, _critic(), frames, config, latent_dim=4, select=ScriptedScore([]),
            select_after=1, checkpoint=tmp_path / "g.pt")
    assert "reused g.pt" in capsys.readouterr().out
    for a, b in zip(g.state_dict().values(), g2.state_dict().values()):
        torch.testing.assert_close(a, b)
    seed_everything(0)
    g3 = TinyGenerator()  # nothing eligible: the last epoch's weights, as without selection
    history = fit_gan(g3, _critic(), frames, config, latent_dim=4, select=ScriptedScore([]),
                      select_after=4)
    assert "train_selection_score" not in history.metrics
    for a, b in zip(g3.state_dict().values(), score.seen[2].values()):
        torch.testing.assert_close(a, b)


def test_gan_loop_records_both_losses_checkpoints_and_resumes_exactly(tmp_path, capsys):
    frames, config = _small_frames(64), TrainConfig(epochs=2, batch_size=16, lr=2e-4)
    seed_everything(0)
    g, d = TinyGenerator(), _critic()
    history = fit_gan(g, d, frames, config, latent_dim=4, checkpoint=tmp_path / "g.pt")
    assert isinstance(history, History) and history.epochs_done == 2
    assert set(history.metrics) == {"train_discriminator_loss", "train_d_real", "train_d_fake"}
    assert all(0 < v < 1 for v in history.metrics["train_d_real"])
    state = read_checkpoint(tmp_path / "g.pt")
    assert {"model", "discriminator", "optimizer", "optimizer_d"} <= set(state)

    seed_everything(0)
    g1, d1 = TinyGenerator(), _critic()
    fit_gan(g1, d1, frames, TrainConfig(epochs=1, batch_size=16, lr=2e-4), latent_dim=4,
            checkpoint=tmp_path / "h.pt")
    state = read_checkpoint(tmp_path / "h.pt")
    state["fingerprint"]["epochs"] = 2
    torch.save(state, tmp_path / "h.pt")
    g2, d2 = TinyGenerator(), _critic()
    fit_gan(g2, d2, frames, config, latent_dim=4, checkpoint=tmp_path / "h.pt")
    for a, b in zip(g.state_dict().values(), g2.state_dict().values()):
        torch.testing.assert_close(a, b)

    g3, d3 = TinyGenerator(), _critic()
    capsys.readouterr()
    fit_gan(g3, d3, frames, config, latent_dim=4, checkpoint=tmp_path / "g.pt")
    assert "reused g.pt" in capsys.readouterr().out
    for a, b in zip(g.state_dict().values(), g3.state_dict().values()):
        torch.testing.assert_close(a, b)


def test_diff_augment_keeps_each_frame_up_to_a_symmetry_and_a_small_shift():
    from bballs.training.gan import diff_augment

    frame = torch.zeros(1, 1, 32, 32)
    frame[0, 0, 10:14, 5:9] = 1.0  # a 4x4 square away from the border
    torch.manual_seed(0)
    frames = frame.repeat(64, 1, 1, 1).requires_grad_(True)
    out = diff_augment(frames, shift=2)
    assert out.shape == frames.shape
    assert torch.allclose(out.sum(dim=(1, 2, 3)), torch.full((64,), 16.0))  # nothing cut off
    rows = out[:, 0].sum(2).argmax(1)  # first lit row of each frame
    assert len(set(rows.tolist())) > 1  # frames moved by different amounts
    out.sum().backward()  # differentiable: each square pixel reaches the output once
    assert torch.all(frames.grad[:, 0, 10:14, 5:9] == 1)
    assert set(frames.grad.unique().tolist()) == {0.0, 1.0}  # border pixels may fall off
    assert torch.equal(diff_augment(frame, shift=0).sum(), frame.sum())
    assert torch.equal(diff_augment(frames, shift=0, probability=0.0), frames)  # unchanged
    torch.manual_seed(1)
    turned = diff_augment(frames, shift=0, probability=0.5)
    kept = (turned == frames).flatten(1).all(1)
    assert 0 < int(kept.sum()) < 64  # some frames left as they are, others turned


def test_a_count_conditioned_dcgan_draws_the_training_count_shares(tmp_path):
    positions = [[(3.0, 3.0)], [(6.0, 4.0), (2.0, 8.0)], [(6.0, 4.0), (2.0, 8.0)]] * 6
    data = rendered(positions)
    run = generation.train_gan(data.frames, TrainConfig(epochs=1, batch_size=8, lr=2e-4),
                               tmp_path / "cgan.pt", counts=data.counts)
    generator = run.generator
    assert generator.n_classes == 3 and run.discriminator.n_classes == 3
    torch.testing.assert_close(generator.class_shares, torch.tensor([1 / 3, 2 / 3, 0.0]))
    samples = generation.gan_samples(generator, 9, seed=1, batch_size=4)
    assert samples.shape == (9, 1, 32, 32)
    assert torch.allclose(samples, generation.gan_samples(generator, 9, seed=1), atol=1e-5)
    rows, _ = generation.interpolate(generator, 2, 4)
    assert rows.shape == (2, 4, 32, 32)
    z, classes = torch.randn(3, 64), torch.tensor([0, 2, 1])
    with torch.no_grad():  # class weights equal to a one-hot vector give the class itself
        torch.testing.assert_close(generator(z, F.one_hot(classes, 3).float()),
                                   generator(z, classes))
    obeyed = generation.count_obedience(generator, n_per_count=5)
    assert set(obeyed) == {"1", "2", "3", "all"} and all(0 <= v <= 1 for v in obeyed.values())
    with pytest.raises(ValueError, match="not conditioned"):
        generation.count_obedience(DCGANGenerator(64, 32))
    with pytest.raises(ValueError, match="conditioned"):
        generator(torch.randn(2, 64))
    with pytest.raises(ValueError, match="conditioned"):
        run.discriminator(samples[:2])
    with pytest.raises(ValueError, match="ball counts"):
        generation.train_gan(data.frames, TrainConfig(epochs=1, batch_size=8, lr=2e-4),
                             counts=data.counts + 3)
    # the conditional networks add the one-hot input, the class embedding and the auxiliary
    # count classifier (a linear layer on the 2048 features) only
    plain = DCGANGenerator(64, 32, upsampling="bilinear")
    assert count_parameters(generator) == count_parameters(plain) + 3 * 32 * 4 * 16
    assert (count_parameters(run.discriminator)
            == count_parameters(DCGANDiscriminator(32)) + 2 * 3 * 32 * 4 * 16 + 3)
    assert run.discriminator.classify(run.discriminator.features(samples[:2])).shape == (2, 3)
    assert run.history.epochs_done == 1


def test_the_auxiliary_classifier_loss_trains_the_discriminator_to_count(tmp_path):
    """With ``class_weight`` the discriminator's classifier learns the real frames' classes;
    without a classifier or classes the weight is refused."""
    positions = [[(3.0, 3.0)], [(6.0, 4.0), (2.0, 8.0)]] * 16
    data = rendered(positions)
    classes = data.counts - 1
    seed_everything(0)
    generator = DCGANGenerator(8, 8, upsampling="bilinear", n_classes=3)
    critic = DCGANDiscriminator(8, n_classes=3, auxiliary=True)
    before = F.cross_entropy(critic.classify(critic.features(data.frames)), classes)
    fit_gan(generator, critic, data.frames, TrainConfig(epochs=8, batch_size=8, lr=2e-3),
            latent_dim=8, classes=classes, class_weight=1.0)
    critic.eval()
    after = F.cross_entropy(critic.classify(critic.features(data.frames)), classes)
    assert after < 0.5 * before
    with pytest.raises(ValueError, match="classifier"):
        fit_gan(generator, DCGANDiscriminator(8, n_classes=3), data.frames,
                TrainConfig(epochs=1, batch_size=8), latent_dim=8, classes=classes,
                class_weight=1.0)
    with pytest.raises(ValueError, match="classifier"):
        DCGANDiscriminator(8).classify(torch.zeros(1, 8 * 4 * 16))
    with pytest.raises(ValueError, match="auxiliary"):
        DCGANDiscriminator(8, auxiliary=True)


def test_r1_penalty_is_half_the_weight_times_the_squared_gradient_norm():
    weights = torch.arange(64.0).view(1, 1, 8, 8) / 64
    frames = _small_frames(5).requires_grad_(True)
    logits = (frames * weights).flatten(1).sum(1) + frames.pow(2).flatten(1).sum(1)
    gradient = weights + 2 * frames.detach()  # d logit / d frame, per frame
    expected = 3.0 / 2 * gradient.pow(2).flatten(1).sum(1).mean()
    assert torch.allclose(r1_penalty(logits, frames, 3.0), expected)


def test_the_r1_penalty_changes_the_run_and_its_fingerprint(tmp_path):
    frames, config = _small_frames(32), TrainConfig(epochs=1, batch_size=16, lr=2e-3)

    def critic_after(r1_weight, name):
        seed_everything(0)
        generator, critic = TinyGenerator(), _critic()
        fit_gan(generator, critic, frames, config, latent_dim=4, r1_weight=r1_weight,
                checkpoint=tmp_path / name)
        return critic, read_checkpoint(tmp_path / name)["fingerprint"]

    plain, plain_id = critic_after(0.0, "plain.pt")
    penalised, penalised_id = critic_after(10.0, "r1.pt")
    assert penalised_id["r1_weight"] == 10.0 and "r1_weight" not in plain_id
    assert not torch.equal(plain[1].weight, penalised[1].weight)
    with pytest.raises(ValueError, match="r1_weight"):
        fit_gan(TinyGenerator(), _critic(), frames, config, latent_dim=4, r1_weight=-1.0)


def test_the_hinge_losses_vanish_beyond_the_margin_and_the_fingerprint_names_them(tmp_path):
    confident, unsure = torch.tensor([[2.0], [3.0]]), torch.zeros(2, 1)
    assert critic_loss(confident, -confident, loss="hinge") == 0
    assert critic_loss(unsure, unsure, loss="hinge") == 2
    assert generator_loss(confident, loss="hinge") == -2.5
    assert torch.isclose(critic_loss(unsure, unsure), 2 * torch.log(torch.tensor(2.0)))
    frames, config = _small_frames(32), TrainConfig(epochs=1, batch_size=16, lr=2e-3)
    fit_gan(TinyGenerator(), _critic(), frames, config, latent_dim=4, loss="hinge",
            checkpoint=tmp_path / "hinge.pt")
    assert read_checkpoint(tmp_path / "hinge.pt")["fingerprint"]["loss"] == "hinge"
    with pytest.raises(ValueError, match="loss"):
        fit_gan(TinyGenerator(), _critic(), frames, config, latent_dim=4, loss="wasserstein")


def test_a_spectral_discriminator_has_no_batch_norm_and_unit_spectral_norms():
    critic = DCGANDiscriminator(8, n_classes=3, auxiliary=True, spectral=True)
    generation.dcgan_init(critic)
    assert not any(isinstance(m, nn.BatchNorm2d) for m in critic.modules())
    for _ in range(20):  # power iterations, one per forward pass in training mode
        critic(torch.rand(4, 1, 32, 32), torch.tensor([0, 1, 2, 0]))
    critic.eval()
    head = torch.linalg.matrix_norm(critic.head.weight, ord=2)
    assert torch.isclose(head, torch.tensor(1.0), atol=0.05)
    assert critic.classifier.weight.abs().max() > 0  # the count classifier is left as it is


def test_refresh_batch_norm_measures_the_statistics_again_without_the_global_generator():
    generator = DCGANGenerator(8, 8, n_classes=3)
    norm = generator.project[1]
    norm.running_mean.fill_(100.0)  # stale statistics, as after averaging the weights
    state = torch.random.get_rng_state()
    refresh_batch_norm(generator.eval(), 8, torch.tensor([0.5, 0.25, 0.25]), batches=16)
    assert torch.equal(torch.random.get_rng_state(), state)
    assert not generator.training and norm.momentum == 0.1
    z = torch.randn(8192, 8)
    classes = torch.multinomial(torch.tensor([0.5, 0.25, 0.25]), 8192, True)
    with torch.no_grad():
        features = generator.project[0](torch.cat([z, F.one_hot(classes, 3).float()], 1))
    spread = features.std(0)  # sampling noise of 4096 draws: about spread / 64
    assert ((norm.running_mean - features.mean(0)).abs() < spread / 10).all()
    assert torch.allclose(norm.running_var, features.var(0), rtol=0.2)


def test_standing_statistics_are_in_the_fingerprint(tmp_path):
    frames = rendered([[(3.0, 3.0)], [(6.0, 4.0), (2.0, 8.0)]] * 8).frames
    generation.train_gan(frames, TrainConfig(epochs=1, batch_size=8, lr=2e-4),
                         tmp_path / "gan.pt", standing_statistics=True)
    assert read_checkpoint(tmp_path / "gan.pt")["fingerprint"]["standing_statistics"] is True


def test_a_clamped_generator_draws_exact_black_and_white_and_says_so_in_its_fingerprint():
    from bballs.training.gan import gan_fingerprint

    clamped = DCGANGenerator(8, 8, upsampling="bilinear", output="clamp")
    with torch.no_grad():
        clamped.upsample[-2].bias.fill_(-5.0)  # the last convolution pushed below black
        frames = clamped(torch.randn(4, 8))
    assert frames.min() == 0.0 and frames.max() <= 1.0 and (frames == 0).all()
    with pytest.raises(ValueError, match="output"):
        DCGANGenerator(8, 8, output="tanh")
    config, data = TrainConfig(epochs=1, batch_size=4), torch.rand(8, 1, 32, 32)
    critic = DCGANDiscriminator(8)
    options = {"latent_dim": 8, "real_label": 1.0, "augment": 0.5}
    plain = gan_fingerprint(DCGANGenerator(8, 8), critic, config, data, **options)
    clamp = gan_fingerprint(clamped, critic, config, data, **options)
    still = gan_fingerprint(DCGANGenerator(8, 8), critic, config, data, **options,
                            augment_shift=0)
    assert "output" not in plain and clamp["output"] == "clamp"
    assert plain["augment"] == "diff_augment p=0.5" and still["augment"].endswith("shift=0")


def test_the_minibatch_spread_reaches_the_discriminator_as_one_more_channel():
    from bballs.models.generative import MinibatchStd

    x = torch.randn(6, 3, 4, 4)
    out = MinibatchStd()(x)
    assert out.shape == (6, 4, 4, 4)
    assert torch.allclose(out[:, 3], x.std(dim=0, unbiased=False).mean().expand(6, 4, 4))
    same = torch.ones(6, 3, 4, 4)
    assert (MinibatchStd()(same)[:, 3] == 0).all()  # a batch of one frame repeated
    plain, spread = DCGANDiscriminator(8), DCGANDiscriminator(8, minibatch_std=True)
    # the last block's 4x4 convolution reads one more channel: 4 * 8 * 16 more weights
    assert count_parameters(spread) == count_parameters(plain) + 4 * 8 * 16
    assert spread(torch.rand(5, 1, 32, 32)).shape == (5, 1)
