"""Inverse graphics: fitting states and constants to frames, the encoder, the predictor."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from bballs.data.dataset import FileSpec, generate_arrays
from bballs.data.variants import variant_sequences
from bballs.physics_model import gauss_newton as gn
from bballs.physics_model import inverse_physics as ip
from bballs.physics_model import inverse_predictor as ipred
from bballs.physics_model import physics_encoder as pe
from bballs.physics_model import system_identification as sysid
from bballs.training.checkpoints import CheckpointError
from bballs.training.loop import TrainConfig

# the generator's constants in pixels (1 box unit = 3.2 pixels, pixel i centred at i + 0.5)
TRUE = {"radius": 3.84, "box": 32.0, "exponent": 4.0, "offset": 0.5, "speed": 1.6}


@pytest.fixture(scope="module")
def sequences():
    arrays = generate_arrays(FileSpec("x", 40, 10), np.random.default_rng(7))
    return arrays["data"].reshape(40, 10, 32, 32), arrays["labels"], arrays


def test_constants_round_trip_and_box_units():
    constants = ip.WorldConstants(**TRUE)
    assert constants.as_dict() == pytest.approx(TRUE)
    units = constants.in_box_units(10.0)
    assert units["radius"] == pytest.approx(1.2) and units["speed"] == pytest.approx(0.5)


def test_counts_and_blobs_from_frames(sequences):
    frames, labels, arrays = sequences
    constants = ip.WorldConstants(**TRUE)
    assert (ip.count_balls(frames[:, :5], constants) == labels).mean() >= 0.95
    centres, n_blobs = ip.blob_centres(frames[:, :1])
    alone = n_blobs[:, 0] == labels
    truth = arrays["positions"][:, 0] * 3.2 - 0.5
    for i in np.flatnonzero(alone)[:10]:
        k = labels[i]
        nearest = np.linalg.norm(centres[i, 0, :k, None] - truth[i, None, :k], axis=-1).min(1)
        assert nearest.max() < 0.5


def test_fitted_states_reproduce_inputs_and_predict_the_future(sequences):
    frames, labels, _ = sequences
    constants = ip.WorldConstants(**TRUE)
    inputs = torch.from_numpy(frames[:, :5])
    state, start, error = ip.fit_sequences(inputs, labels, constants)
    assert (error < ip.EXACT).float().mean() >= 0.9
    future = ip.predict_from_states(state, start, constants, 5, 5).numpy()
    mse = ((future - frames[:, 5:]) ** 2).mean(axis=(1, 2, 3))
    assert np.median(mse) < 1e-6 and mse.mean() < 2e-3


def test_system_identification_moves_wrong_constants_towards_the_generator(sequences):
    frames, labels, _ = sequences
    constants, trace = sysid.identify_constants(frames[:16], labels[:16], rounds=1, steps=40,
                                             progress=False, wall_spans=(0.04,), placements=1)
    assert len(trace["radius"]) == 2
    for name in ("radius", "speed"):  # the exponent needs more rounds (it dips first)
        before = abs(ip.INITIAL_GUESS[name] - TRUE[name])
        assert abs(trace[name][-1] - TRUE[name]) < 0.75 * before, name


def test_per_ball_speed_keeps_each_velocity_and_shared_speed_rescales_them():
    present = ip.present_mask(np.array([2]))
    state = ip.State(torch.zeros(1, 3, 2), torch.tensor([[[3.0, 4.0], [0.0, 1.0], [9.0, 9.0]]]),
                     present)
    assert torch.equal(state.velocity(None), torch.tensor([[[3.0, 4.0], [0.0, 1.0], [0, 0]]]))
    assert float(state.velocity(2.0).flatten(1).norm()) == pytest.approx(2.0)
    theta = torch.cat([state.position.flatten(1), state.direction.flatten(1)], dim=1)
    kept = gn.project_speed(theta, present, None).view(1, 2, 3, 2)[:, 1]
    assert torch.equal(kept, state.velocity(None))
    assert ip.WorldConstants(shared_speed=False).speed_constraint is None
    assert ip.WorldConstants(shared_speed=False).in_box_units()["speed"] is None


@pytest.mark.parametrize("variant, expected", [("ours", "shared"),
                                               ("speed per ball", "per ball")])
def test_the_speed_hypothesis_is_read_from_the_fitted_sequences(variant, expected):
    frames, counts = variant_sequences(variant, 24, 10, seed=3)
    constants = ip.WorldConstants(**TRUE, shared_speed=False)
    hypothesis, evidence = sysid.choose_speed_hypothesis(frames, counts, constants)
    assert hypothesis == expected and constants.hypothesis == expected
    assert evidence["sequences_fitted"] >= 8
    if expected == "shared":
        assert evidence["spread"] < 1e-3
        assert float(constants.speed.detach()) == pytest.approx(1.6, 0.01)


@pytest.mark.parametrize("variant, expected", [("ours", 2), ("4 sub-steps per frame", 4)])
def test_the_number_of_substeps_is_read_from_the_sequences(variant, expected):
    frames, counts = variant_sequences(variant, 32, 10, seed=3)
    constants = ip.WorldConstants(**TRUE, substeps=1)
    chosen, quality = sysid.choose_substeps(frames, counts, constants, (1, 2, 4))
    assert chosen == expected and int(constants.substeps) == expected
    others = [q["exact"] for k, q in quality.items() if k != expected]
    assert quality[expected]["exact"] > max(others)


def test_walls_stay_while_no_sequence_fits_and_move_to_the_bounces_once_some_do(sequences):
    frames, labels, _ = sequences
    wrong = ip.WorldConstants(**{**TRUE, "radius": 3.9})  # nothing fits exactly
    with torch.no_grad():
        wrong.low.fill_(-0.8)
    sysid.place_walls(frames[:16], labels[:16], wrong, spans=(0.3,))
    assert float(wrong.low.detach()) == pytest.approx(-0.8)
    constants = ip.WorldConstants(**TRUE)
    with torch.no_grad():
        constants.low.fill_(-0.7)  # 0.2 px beyond the true low wall
    sysid.place_walls(frames, labels, constants, spans=(0.3, 0.1, 0.03))
    assert abs(float(constants.low.detach()) + 0.5) < 0.1


def test_state_loss_ignores_ball_order():
    present = ip.present_mask(np.array([3, 2]))
    labels = ip.State(torch.rand(2, 3, 2) * 30, torch.randn(2, 3, 2), present)
    guess = ip.State(torch.rand(2, 3, 2) * 30, torch.randn(2, 3, 2), present)
    order = torch.tensor([2, 0, 1])
    swapped = ip.State(guess.position[:, order], guess.direction[:, order], present)
    swapped.position[1], swapped.direction[1] = guess.position[1], guess.direction[1]
    speed = torch.tensor(1.6)
    assert float(pe.state_loss(guess, labels, speed)) == pytest.approx(
        float(pe.state_loss(swapped, labels, speed)))
    exact = ip.State(labels.position, labels.direction, present)
    labels_v = ip.State(labels.position, exact.velocity(speed), present)
    assert float(pe.state_loss(exact, labels_v, speed)) == pytest.approx(0.0, abs=1e-8)


def test_encoder_outputs_states_and_trains(sequences):
    frames, labels, _ = sequences
    encoder = pe.StateEncoder()
    x, counts = torch.from_numpy(frames[:8]), torch.from_numpy(labels[:8])
    state = encoder(x[:, :5], counts)
    assert state.position.shape == (8, 3, 2) and state.present.sum() == counts.sum()
    constants = ip.WorldConstants(**TRUE)
    labelled = pe.pseudo_labels(x, counts, constants)
    recipe = TrainConfig(epochs=2, batch_size=4, lr=2e-3)
    history = pe.train_encoder(encoder, x, counts, constants, recipe, labels=labelled,
                               progress=False)
    assert len(history) == 2 and all(np.isfinite(history))


def test_predictor_checkpoint_is_reused_and_loaded_and_retrained_on_other_data(
        sequences, tmp_path, capsys):
    frames, labels, _ = sequences
    config = ipred.InverseConfig(sysid_sequences=8, sysid_rounds=1, sysid_steps=5,
                                 encoder=ipred.ENCODER_RECIPE.for_run(0, quick=True),
                                 wall_spans=())
    path = tmp_path / "inverse.pt"
    trained = ipred.train(frames[:16], labels[:16], config, path, progress=False)
    again = ipred.train(frames[:16], labels[:16], config, path, progress=False)
    assert again.constants.as_dict() == trained.constants.as_dict()
    loaded = ipred.load(path)
    assert loaded.constants.as_dict() == trained.constants.as_dict()
    changed = frames[:16].copy()
    changed[3, 2, 10, 10] += 0.25  # one pixel of one training frame
    stamp = path.stat().st_mtime_ns
    ipred.train(changed, labels[:16], config, path, progress=False)
    assert "inverse.pt: data changed: train digest " in capsys.readouterr().out
    assert path.stat().st_mtime_ns != stamp
    loaded.constants = ip.WorldConstants(**TRUE)
    out = loaded.predict(frames[:6, :5], horizon=7, counts=labels[:6])
    assert out.shape == (6, 7, 32, 32) and out.dtype == np.float32
    assert ((out[:, :5] - frames[:6, 5:]) ** 2).mean() < 5e-3


def test_checkpoint_of_the_first_layout_is_reused_and_loaded(sequences, tmp_path, capsys):
    """Checkpoints written before the physics model used the training loop's checkpoint
    helpers (fingerprint inside ``info``) are read through ``upgrade_checkpoint``."""
    frames, labels, _ = sequences
    config = ipred.InverseConfig(sysid_sequences=8, sysid_rounds=1, sysid_steps=5,
                                 encoder=ipred.ENCODER_RECIPE.for_run(0, quick=True),
                                 wall_spans=())
    path = tmp_path / "inverse.pt"
    trained = ipred.train(frames[:16], labels[:16], config, path, progress=False)
    state = torch.load(path, weights_only=True)
    assert {"fingerprint", "history", "constants", "encoder", "info"} <= set(state)
    old = {"constants": state["constants"], "encoder": state["encoder"],
           "info": {**state["info"], "fingerprint": state["fingerprint"]}}
    torch.save(old, path)
    stamp = path.stat().st_mtime_ns
    capsys.readouterr()
    again = ipred.train(frames[:16], labels[:16], config, path, progress=False)
    assert "reused inverse.pt" in capsys.readouterr().out and path.stat().st_mtime_ns == stamp
    assert again.constants.as_dict() == trained.constants.as_dict()
    assert ipred.load(path).constants.as_dict() == trained.constants.as_dict()
    torch.save({"constants": state["constants"]}, path)  # neither layout
    with pytest.raises(CheckpointError, match="not a checkpoint"):
        ipred.load(path)


def test_configuration_of_the_first_layout_reads_as_the_same_recipe():
    """Fingerprints recorded when the encoder's epochs were a setting of their own (batch 64
    and learning rate 2e-3 fixed in the loop) match today's recipe with those values."""
    today = ipred.InverseConfig(seed=1, sysid_sequences=128, tag="variant",
                                encoder=TrainConfig(epochs=5, batch_size=64, lr=2e-3))
    first = ("{'seed': 1, 'sysid_sequences': 128, 'sysid_rounds': 4, 'sysid_steps': 100, "
             "'encoder_epochs': 5, 'wall_spans': (0.24, 0.06, 0.015), 'wall_placements': 3, "
             "'speed_hypotheses': ('shared', 'per ball'), 'substep_hypotheses': (1, 2, 4, 8), "
             "'radius_hypotheses': ('shared', 'per ball'), 'tag': 'variant'}")
    assert ipred.upgrade_config_key(first) == ipred.config_key(today)
    assert ipred.upgrade_config_key(ipred.config_key(today)) == ipred.config_key(today)
    other = first.replace("'encoder_epochs': 5", "'encoder_epochs': 6")
    assert ipred.upgrade_config_key(other) != ipred.config_key(today)
    assert ipred.upgrade_config_key("not a configuration") == "not a configuration"
    state = {"fingerprint": {"config": first, "n_train": 4}, "info": {}}
    assert ipred.upgrade_checkpoint(state)["fingerprint"] == {"config": ipred.config_key(today),
                                                              "n_train": 4}


def test_residual_separates_sequences_the_world_explains_from_ones_it_cannot(sequences):
    frames, labels, _ = sequences
    predictor = ipred.InversePhysicsPredictor(ip.WorldConstants(**TRUE), pe.StateEncoder())
    moving = labels > 0
    real = frames[moving][:12, :5]
    scrambled = real[:, [0, 3, 1, 4, 2]]  # the same frames in an order no world produces
    out, residual = predictor.predict_with_residual(real, horizon=5)
    _, wrong = predictor.predict_with_residual(scrambled, horizon=5)
    assert out.shape == (12, 5, 32, 32) and residual.shape == (12,)
    assert np.median(residual) < ip.EXACT <= np.median(wrong)
    assert np.median(wrong) > 100 * np.median(residual)


def test_a_radius_per_ball_is_fitted_where_one_radius_cannot_explain_the_frames():
    frames, counts = variant_sequences("radius per ball 0.9-1.5", 24, 10, seed=3)
    inputs = torch.from_numpy(frames[:, :5])
    shared = ip.WorldConstants(**TRUE)
    _, _, error_shared = ip.fit_sequences(inputs, counts, shared)
    per_ball = ip.WorldConstants(**TRUE, radius_per_ball=True)
    state, start, error = ip.fit_sequences(inputs, counts, per_ball)
    assert (error_shared < ip.EXACT).float().mean() < 0.3
    assert (error < ip.EXACT).float().mean() >= 0.8
    assert state.radius.shape == (24, 3)
    fitted = state.radius[state.present & (error < ip.EXACT)[:, None]] / 3.2  # box units
    assert fitted.min() > 0.85 and fitted.max() < 1.55
    future = ip.predict_from_states(state, start, per_ball, 5, 5).numpy()
    mse = ((future - frames[:, 5:]) ** 2).mean(axis=(1, 2, 3))
    assert np.median(mse) < 1e-6
    assert (ip.count_balls(frames[:, :5], per_ball) == counts).mean() >= 0.9


@pytest.mark.parametrize("variant, expected", [("ours", "shared"),
                                               ("radius per ball 0.9-1.5", "per ball")])
def test_the_radius_hypothesis_is_read_from_the_sequences(variant, expected):
    frames, counts = variant_sequences(variant, 24, 10, seed=4)
    constants = ip.WorldConstants(**TRUE)
    hypothesis, evidence = sysid.choose_radius_hypothesis(frames, counts, constants, steps=20,
                                                          wall_spans=(0.06,), placements=1)
    assert hypothesis == expected and constants.radius_hypothesis == expected
    if expected == "per ball":
        assert evidence["per ball"]["exact"] >= evidence["shared"]["exact"] + 0.5
        assert evidence["per ball"]["spread"] > 0.05
    elif "per ball" in evidence:  # tried, but the fitted radii are one radius
        assert evidence["per ball"]["spread"] < sysid.RADIUS_SPREAD


@pytest.mark.parametrize("trial_is_right", [True, False])
def test_a_rejected_radius_trial_keeps_its_constants_only_if_they_fit_more(trial_is_right):
    """The per-ball trial identifies the walls and profile again; when its radii agree, the
    world returns to one radius with the trial's constants only if they fit more sequences."""
    frames, counts = variant_sequences("ours", 24, 10, seed=4)
    wrong = {**TRUE, "offset": TRUE["offset"] + 0.3, "box": TRUE["box"] + 0.6}
    before, trial = (wrong, TRUE) if trial_is_right else (TRUE, wrong)
    saved = ip.WorldConstants(**before).state_dict()
    constants = ip.WorldConstants(**{**trial, "radius": 3.0}, radius_per_ball=True)
    evidence = {"shared": sysid.fit_quality(frames, counts, ip.WorldConstants(**before)),
                "per ball": {"exact": 1.0, "median_radius": TRUE["radius"]}}
    assert (evidence["shared"]["exact"] < 0.5) is trial_is_right
    sysid._one_radius(frames, counts, constants, saved, evidence)
    assert constants.radius_hypothesis == "shared"
    assert evidence["trial_constants_kept"] is trial_is_right
    kept = constants.as_dict()  # the right constants either way: kept, or restored
    for name in ("radius", "box", "offset"):
        assert kept[name] == pytest.approx(TRUE[name], abs=1e-3)


def test_constants_saved_before_the_radius_hypothesis_still_load():
    saved = ip.WorldConstants(**TRUE).state_dict()
    del saved["radius_per_ball"]
    constants = ip.WorldConstants(radius_per_ball=True)
    constants.load_state_dict(saved)
    assert constants.radius_hypothesis == "shared"
    assert constants.as_dict()["radius"] == pytest.approx(TRUE["radius"])


def test_every_training_setting_has_a_name_in_words():
    import dataclasses

    fields = {f.name for f in dataclasses.fields(ipred.InverseConfig)} - {"seed", "tag"}
    assert set(ipred.SETTING_NAMES) == fields
    rows = ipred.setting_rows(ipred.InverseConfig())
    assert {"setting": "sub-steps per frame tried", "value": "1, 2, 4, 8"} in rows


def test_noisy_frames_are_counted_and_fitted_above_their_noise_floor():
    clean, counts = variant_sequences("Gaussian noise (std 0.02)", 24, 10, seed=3, observed=False)
    noisy, _ = variant_sequences("Gaussian noise (std 0.02)", 24, 10, seed=3)
    assert ip.noise_floor(clean).max() < 1e-12  # nothing where no ball is
    floor = ip.noise_floor(noisy)
    assert floor.min() > 1e-4 and floor.max() < 4e-4  # clipped noise of std 0.02: ~2e-4
    constants = ip.WorldConstants(**TRUE)
    assert (ip.count_balls(noisy[:, :5], constants) == counts).mean() >= 0.95
    _, _, error = ip.fit_sequences(torch.from_numpy(noisy[:, :5]), counts, constants)
    assert (error < ip.EXACT).float().mean() == 0  # no fit reaches a noise-free error
    assert (error < ip.exact_threshold(noisy[:, :5])).float().mean() >= 0.8


def test_balls_never_seen_apart_start_on_their_blobs_and_are_split_again_until_they_fit():
    frames, counts = variant_sequences("ours", 1500, 10, seed=0)
    inputs = frames[:, :5]
    hidden = ip.blob_centres(inputs)[1].max(axis=1) < counts  # two balls overlap throughout
    assert 5 <= hidden.sum() <= 30
    sub, k = torch.from_numpy(inputs[hidden]), counts[hidden]
    constants = ip.WorldConstants(**TRUE)
    guess = ip.blob_state(sub.numpy(), k)
    apart = torch.cdist(guess.position, guess.position)[:, 0, 1]
    assert (apart < 2.0).any() and (apart > 0).all()  # stacked on one blob, then split
    _, _, once = ip.fit_sequences(sub, k, constants, restarts=0)
    _, _, again = ip.fit_sequences(sub, k, constants, restarts=4)
    # restarts never make a fit worse (two exact fits differ only in round-off)
    assert (again <= once.clamp(min=ip.EXACT)).all()
    assert (again < ip.EXACT).all() and (once >= ip.EXACT).any()


def test_a_guess_is_made_where_every_frame_shows_more_blobs_than_balls():
    frames, counts = variant_sequences("ours", 6, 5, seed=2)
    two = np.clip(frames + frames[:, :, ::-1], 0, 1)  # mirrored copies: more blobs than counted
    guess = ip.blob_state(two, counts)
    assert guess.position.shape == (6, 3, 2) and torch.isfinite(guess.position).all()


def test_the_brightness_of_the_balls_is_read_from_the_frames_and_ours_stays_exactly_one():
    for name in ("ours", "Gaussian noise (std 0.02)", "8-bit frames", "softer profile (power 2)",
                 "rendered at 4x and averaged down (outside)"):
        assert ip.intensity_peak(variant_sequences(name, 40, 5)[0]) == 1.0, name
    dim, counts = variant_sequences("dimmer balls (peak 0.8)", 40, 10, seed=3)
    assert ip.intensity_peak(dim) == pytest.approx(0.8, abs=0.01)
    constants = ip.WorldConstants(**TRUE, peak=0.8)
    predictor = ipred.InversePhysicsPredictor(constants, pe.StateEncoder())
    out, residual = predictor.predict_with_residual(dim[:, :5], horizon=5)
    assert (predictor.counts(dim[:, :5]) == counts).mean() >= 0.95
    assert np.median(residual) < ip.EXACT and out.max() <= 0.8 + 1e-6
    assert np.median(((out - dim[:, 5:]) ** 2).mean(axis=(1, 2, 3))) < 1e-6
    old = {k: v for k, v in constants.state_dict().items() if k != "peak"}
    again = ip.WorldConstants()
    again.load_state_dict(old)  # constants saved before the brightness was read: 1
    assert float(again.peak) == 1.0


def test_identification_moves_to_a_radius_per_ball_and_rereads_the_sub_steps_under_it():
    frames, counts = variant_sequences("radius per ball 0.9-1.5", 24, 10, seed=4)
    constants = ip.WorldConstants(**TRUE)
    config = ipred.InverseConfig(sysid_sequences=24, sysid_rounds=1, sysid_steps=20,
                                 wall_spans=(0.06,), wall_placements=1,
                                 substep_hypotheses=(2, 4), speed_hypotheses=("shared",))
    info = ipred.identify(frames, counts, constants, config, progress=False)
    assert info["radius_hypothesis"] == "per ball" and bool(constants.radius_per_ball)
    assert int(constants.substeps) == 2 and set(info["substep_evidence"]) == {"2", "4"}
    assert sysid.fit_quality(frames, counts, constants)["exact"] >= 0.5


def test_a_ball_hidden_behind_another_is_found_by_refitting_with_one_ball_more(sequences,
                                                                               monkeypatch):
    frames = sequences[0]
    predictor = ipred.InversePhysicsPredictor(ip.WorldConstants(**TRUE), pe.StateEncoder())
    inputs = frames[:, :5]
    true = ip.count_balls(inputs, predictor.constants)
    several = np.flatnonzero(true >= 2)[:8]
    inputs, true = inputs[several], true[several]
    fitted_rows = []
    fit_counts = predictor._fit_counts
    monkeypatch.setattr(predictor, "_fit_counts", lambda frames, counts: (
        fitted_rows.append(len(frames)), fit_counts(frames, counts))[1])
    predictor.fit(inputs)  # read right and reproduced: fitted once
    assert fitted_rows == [len(inputs)]
    undercount = np.maximum(true - 1, 1)  # as if two balls overlapped in every input frame
    monkeypatch.setattr(ip, "count_balls", lambda frames, constants: undercount)
    _, _, given_wrong = predictor.fit(inputs, counts=undercount)  # given counts stay as given
    assert (given_wrong.numpy() > 100 * ip.EXACT).all()
    state, _, read = predictor.fit(inputs)
    assert (read.numpy() < ip.EXACT).all()
    np.testing.assert_array_equal(state.present.sum(dim=1).numpy(), true)
    _, _, exact = predictor.fit(inputs, counts=true)
    assert (exact.numpy() < ip.EXACT).all()


def test_a_gauss_newton_step_that_blows_up_is_refused_not_rendered(sequences, monkeypatch):
    frames = torch.from_numpy(sequences[0][:6, :5])
    counts = ip.count_balls(frames.numpy(), ip.WorldConstants(**TRUE))
    per_ball = ip.WorldConstants(**TRUE, radius_per_ball=True)
    _, _, clean = ip.fit_sequences(frames, counts, per_ball)
    step, calls = gn._step, []

    def blows_up_on_the_first_sequence(theta, *args):
        candidate = step(theta, *args).clone()
        if not calls:  # the first step of the first fit, where every sequence takes one
            candidate[0] = float("nan")  # what a singular normal system gives
        calls.append(len(theta))
        return candidate

    monkeypatch.setattr(gn, "_step", blows_up_on_the_first_sequence)
    state, _, error = ip.fit_sequences(frames, counts, per_ball)
    assert torch.isfinite(error).all() and torch.isfinite(state.radius).all()
    torch.testing.assert_close(error[1:], clean[1:])  # the others fit as before


def _blob_fit_inputs(sequences, n: int = 8):
    frames = torch.from_numpy(sequences[0][:n, :3])
    constants = ip.WorldConstants(**TRUE)
    state = ip.blob_state(frames.numpy(), sequences[1][:n]).with_radius(constants)
    return state.theta(), state.present, frames, constants.frozen()


def test_converged_sequences_take_no_more_steps_and_the_others_fit_as_alone(sequences):
    theta, present, frames, physics = _blob_fit_inputs(sequences)
    walls = physics["high"] + 0.01 * torch.arange(len(frames), dtype=torch.float32)
    physics = {**physics, "high": walls[:, None, None]}  # walls given per sequence
    start = gn.frame_errors(gn.project_speed(theta, present, physics["speed"]), present,
                            frames, physics) / frames[0].numel()
    frozen = torch.arange(len(frames)) % 2 == 0
    converged = torch.where(frozen, start, 0.0)  # even rows start at their limit
    fitted, error = gn.fit_states(theta.clone(), present, frames, physics, 6, converged=converged)
    torch.testing.assert_close(error[frozen], start[frozen])
    assert (error[~frozen] < start[~frozen]).all()
    alone = {**physics, "high": physics["high"][~frozen]}
    own, own_error = gn.fit_states(theta[~frozen].clone(), present[~frozen], frames[~frozen],
                                   alone, 6)
    torch.testing.assert_close(fitted[~frozen], own)
    torch.testing.assert_close(error[~frozen], own_error)


def test_inference_stops_refining_states_that_reproduce_the_frames(sequences, monkeypatch):
    frames = torch.from_numpy(sequences[0][:12, :5])
    counts, constants = sequences[1][:12], ip.WorldConstants(**TRUE)
    steps, step = [], gn._step
    monkeypatch.setattr(gn, "_step", lambda theta, *args: steps.append(len(theta))
                        or step(theta, *args))
    _, _, error = ip.fit_sequences(frames, counts, constants)
    early, steps[:] = list(steps), []
    monkeypatch.setattr(ip, "CONVERGED", -1.0)  # never converged: every sequence every step
    _, _, full = ip.fit_sequences(frames, counts, constants)
    assert sum(early) < 0.8 * sum(steps)
    exact = full < ip.exact_threshold(frames)
    assert (error[exact] < ip.exact_threshold(frames)[exact]).all()


def test_a_further_guess_is_fitted_only_where_the_blob_guess_is_not_exact(sequences,
                                                                         monkeypatch):
    frames = torch.from_numpy(sequences[0][:12, :5])
    counts, constants = sequences[1][:12], ip.WorldConstants(**TRUE)
    fitted, fit_states = [], ip.fit_states
    monkeypatch.setattr(ip, "fit_states", lambda state, *args, **kw: fitted.append(
        len(state.present)) or fit_states(state, *args, **kw))
    _, _, blob_only = ip.fit_sequences(frames, counts, constants, max_start=0, restarts=0)
    not_exact = int((blob_only >= ip.exact_threshold(frames)).sum())
    fitted.clear()
    guess = ip.blob_state(frames.numpy(), counts, seed=3)
    _, _, error = ip.fit_sequences(frames, counts, constants, (guess,), max_start=0, restarts=0)
    assert fitted[0] == len(frames) and sum(fitted[1:]) == not_exact
    assert (error <= blob_only).all()
