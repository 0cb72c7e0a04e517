"""A learnt inverse-graphics physics predictor for Task 7: find the balls' state by analysis by
synthesis, then simulate and render the future.

Training (Part 2 training split only, no ground-truth state): the world constants are fitted to
a few hundred sequences (:func:`~bballs.physics_model.system_identification.identify_constants`),
then the state encoder is trained (:mod:`~bballs.physics_model.physics_encoder`).
Prediction: a blob guess (and, where its fit is not exact, the encoder's guess) is refined on
the input frames by Gauss-Newton, and the fitted states are simulated forward and rendered.
"""

from __future__ import annotations

import ast
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np
import torch

from bballs.core.numbers import power_of_ten
from bballs.data.identity import array_digest
from bballs.physics_model import inverse_physics as ip
from bballs.physics_model import physics_encoder as pe
from bballs.physics_model import system_identification as sysid
from bballs.training.checkpoints import (
    CheckpointError,
    History,
    matching_checkpoint,
    read_checkpoint,
    save_checkpoint,
)
from bballs.training.loop import TrainConfig, seed_everything

#: The state encoder's training recipe (its seed is the :class:`InverseConfig`'s).
ENCODER_RECIPE = TrainConfig(epochs=15, batch_size=64, lr=2e-3)
RECOUNT_GAIN = 0.5  # a refit with one ball more than read is kept below this share of the error
#: A sequence is refitted with one ball more only when its error is at least this share of the
#: error that leaving out one whole ball would cause (smaller errors are not a missing ball).
RECOUNT_SHARE = 0.25
#: How a trained model fits input frames; results computed with another procedure are stale.
FIT_PROCEDURE = (f"blob guess, encoder guess where not exact, states stop {ip.CONVERGED:g} "
                 f"above the noise floor, recount +1 above {RECOUNT_SHARE:g} of a ball, kept "
                 f"below {RECOUNT_GAIN:g} of the error")


@dataclass(frozen=True)
class InverseConfig:
    """Training settings: system identification's, and the state encoder's recipe
    (``encoder``); ``seed`` picks the system-identification subset and seeds the rest."""

    seed: int = 0
    sysid_sequences: int = 256
    sysid_rounds: int = 4
    sysid_steps: int = 100
    encoder: TrainConfig = ENCODER_RECIPE
    wall_spans: tuple[float, ...] = (0.24, 0.06, 0.015)
    wall_placements: int = 3
    # with "per ball", the constants are fitted with free velocities and the shared rule
    # (one total speed per sequence) is kept only if the data show it; ("shared",) assumes it
    speed_hypotheses: tuple[str, ...] = ip.SPEED_HYPOTHESES
    # sub-steps per frame tried after identification; the one fitting most sequences is kept
    substep_hypotheses: tuple[int, ...] = (1, 2, 4, 8)
    # with "per ball", a radius per ball is tried when one radius leaves sequences unexplained
    radius_hypotheses: tuple[str, ...] = ip.RADIUS_HYPOTHESES
    tag: str = ""

    @classmethod
    def quick(cls, seed: int = 0) -> InverseConfig:
        """A smoke-test budget (seconds): few sequences, one round, one encoder epoch."""
        return cls(seed=seed, sysid_sequences=32, sysid_rounds=1, sysid_steps=5,
                   encoder=ENCODER_RECIPE.for_run(0, quick=True), wall_spans=(0.24,),
                   wall_placements=1,
                   substep_hypotheses=(2, 4), radius_hypotheses=("shared",), tag="quick")


#: Each training setting of :class:`InverseConfig` in words (the report's settings table).
SETTING_NAMES = {
    "sysid_sequences": "training sequences for system identification",
    "sysid_rounds": "rounds of joint fitting (states and constants)",
    "sysid_steps": "Adam steps per round",
    "encoder": "state encoder training",
    "wall_spans": "wall search spans (pixels)",
    "wall_placements": "wall placements at most",
    "speed_hypotheses": "speed hypotheses tried",
    "substep_hypotheses": "sub-steps per frame tried",
    "radius_hypotheses": "radius hypotheses tried",
}


def setting_rows(config: InverseConfig) -> list[dict[str, str]]:
    """The training settings of ``config`` in words, one row each (seed and tag left out)."""
    def text(value) -> str:
        if isinstance(value, TrainConfig):
            return (f"{value.epochs} epochs, batch {value.batch_size}, Adam with a one-cycle "
                    "(rising, then falling) "
                    f"schedule peaking at learning rate {power_of_ten(value.lr)}")
        return ", ".join(map(str, value)) if isinstance(value, tuple) else str(value)

    return [{"setting": name, "value": text(getattr(config, field))}
            for field, name in SETTING_NAMES.items()]


class InversePhysicsPredictor:
    """Fitted constants and state encoder; :meth:`predict` has the interface of
    :func:`bballs.classical.physics_predictor.predict` plus optional ball counts."""

    def __init__(self, constants: ip.WorldConstants, encoder: pe.StateEncoder,
                 info: dict | None = None, run_id: dict | None = None):
        self.constants = constants
        self.encoder = encoder
        self.info = info or {}
        self.run_id = run_id  # the training fingerprint (configuration and data), if trained

    @property
    def parameters(self) -> int:
        """Learnt numbers: the encoder's weights and the fitted world constants."""
        return sum(p.numel() for m in (self.encoder, self.constants) for p in m.parameters())

    @property
    def train_seconds(self) -> float:
        """Training time recorded in the checkpoint (system identification + encoder)."""
        return float(self.info.get("sysid_seconds", 0.0) + self.info.get("encoder_seconds", 0.0))

    @property
    def peak(self) -> float:
        """The brightness of a ball's centre in the files (the simulator renders 1)."""
        return float(self.constants.peak)

    def fit(self, inputs, counts=None) -> tuple[ip.State, torch.Tensor, torch.Tensor]:
        """States (at the frame given per sequence) fitted to inputs (N, T, 32, 32) brought to
        the renderer's brightness, and each sequence's mean squared error on the frames it was
        fitted to (at that brightness). With counts read from the frames, a sequence the fit
        does not reproduce, by as much as a good part of a ball (:data:`RECOUNT_SHARE`), is
        fitted again with one ball more (balls that overlap in every input frame are counted
        as one), and that fit kept when it at least halves the error (:data:`RECOUNT_GAIN`)."""
        frames = torch.as_tensor(np.asarray(inputs, dtype=np.float32) / self.peak)
        read = counts is None
        counts = self.counts(np.asarray(inputs), counts)
        fitted = self._fit_counts(frames, counts)
        return self._recounted(frames, counts, fitted) if read else fitted

    def _fit_counts(self, frames: torch.Tensor, counts: np.ndarray
                    ) -> tuple[ip.State, torch.Tensor, torch.Tensor]:
        guess = pe.encode(self.encoder, frames, torch.as_tensor(counts))
        return ip.fit_sequences(frames, counts, self.constants, guesses=(guess,))

    def _recounted(self, frames: torch.Tensor, counts: np.ndarray,
                   fitted: tuple[ip.State, torch.Tensor, torch.Tensor]
                   ) -> tuple[ip.State, torch.Tensor, torch.Tensor]:
        """``fitted`` with the sequences that may miss a ball refitted with one ball more,
        where that at least halves their error."""
        state, start, error = fitted
        one_ball = ip.ball_mass(self.constants) / frames[0, 0].numel()  # its MSE if left out
        doubtful = ((error >= ip.exact_threshold(frames)) & (error >= RECOUNT_SHARE * one_ball)
                    & torch.as_tensor(counts < ip.MAX_BALLS))
        rows = torch.nonzero(doubtful).flatten()
        if len(rows) == 0:
            return fitted
        more, more_start, more_error = self._fit_counts(frames[rows], counts[rows.numpy()] + 1)
        better = more_error < RECOUNT_GAIN * error[rows]
        kept = rows[better]
        ip.assign(state, kept, more, better)
        start[kept], error[kept] = more_start[better], more_error[better]
        return state, start, error

    def counts(self, inputs: np.ndarray, counts=None) -> np.ndarray:
        """The given ball counts, or counts read from the frames' total intensity."""
        if counts is None:
            return ip.count_balls(np.asarray(inputs) / self.peak, self.constants)
        return np.asarray(counts, dtype=np.int64)

    def predict(self, inputs, horizon: int = 5, counts=None) -> np.ndarray:
        """The ``horizon`` frames (N, horizon, 32, 32) after input frames (N, T, 32, 32)."""
        return self.predict_with_residual(inputs, horizon, counts)[0]

    def predict_with_residual(self, inputs, horizon: int = 5, counts=None
                              ) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`predict`'s frames and, per sequence, the residual: the mean squared error of
        the fitted world on the input frames (small where the world model explains them)."""
        state, start, error = self.fit(inputs, counts)
        frames = ip.predict_from_states(state, start, self.constants, len(inputs[0]), horizon)
        return self.peak * frames.numpy(), self.peak ** 2 * error.numpy()

    __call__ = predict


def train(frames: np.ndarray, counts: np.ndarray, config: InverseConfig = InverseConfig(),
          checkpoint: str | Path | None = None, progress: bool = True) -> InversePhysicsPredictor:
    """System identification, then encoder training, on training sequences (N, 10, 32, 32),
    brought to the renderer's brightness (:func:`~ip.intensity_peak`, kept in the constants).

    With ``checkpoint`` each stage is saved atomically when done and a checkpoint of the same
    configuration and training data (size and content digest) is reused (a finished one
    returns at once); one of other data is retrained with a line saying so.
    """
    fingerprint = {"config": config_key(config), "n_train": len(frames),
                   "shape": list(frames.shape[1:]), "data": array_digest(frames, counts)}
    saved = _load(checkpoint, fingerprint)
    seed_everything(config.seed)
    constants, encoder = ip.WorldConstants(), pe.StateEncoder()
    info = {"sysid_seconds": 0.0, "encoder_seconds": 0.0}
    if saved:
        constants.load_state_dict(saved["constants"])
        info.update(saved["info"])
    peak = ip.intensity_peak(frames)  # the world is identified at the renderer's brightness
    frames = frames / peak if peak != 1.0 else frames
    if not saved:
        started = time.perf_counter()
        rows = np.random.default_rng(config.seed).choice(len(frames), config.sysid_sequences,
                                                         replace=False)
        info.update(identify(frames[rows], counts[rows], constants, config, progress))
        constants.peak.fill_(peak)
        info["sysid_seconds"] = time.perf_counter() - started
        _save(checkpoint, fingerprint, constants, None, info)
    if saved and saved.get("encoder"):
        encoder.load_state_dict(saved["encoder"])
        print(f"reused {Path(checkpoint).name}: system identification "
              f"{info['sysid_seconds']:.0f} s, encoder {info['encoder_seconds']:.0f} s "
              f"({config.encoder.epochs} epochs)")
    else:
        started = time.perf_counter()
        pe.train_encoder(encoder, torch.as_tensor(frames), torch.as_tensor(counts), constants,
                         replace(config.encoder, seed=config.seed), progress=progress)
        info["encoder_seconds"] = time.perf_counter() - started
        _save(checkpoint, fingerprint, constants, encoder, info)
    return InversePhysicsPredictor(constants, encoder, info, fingerprint)


SUBSTEP_SEQUENCES = 128
#: Rounds of joint fitting saved when the constants are identified again under a radius per
#: ball: the trial identification that chose that hypothesis has already run two.
PER_BALL_HEAD_START = 2


def identify(frames: np.ndarray, counts: np.ndarray, constants: ip.WorldConstants,
             config: InverseConfig, progress: bool = True) -> dict:
    """System identification under the weakest speed hypothesis configured, then the number of
    sub-steps, one radius or a radius per ball, and the speed rule read from the same sequences
    (``constants`` in place). Returns the trace of the constants and the evidence for each
    choice."""
    per_ball = ip.SPEED_HYPOTHESES[1] in config.speed_hypotheses
    constants.shared_speed.fill_(not per_ball)
    _, trace = sysid.identify_constants(frames, counts, config.sysid_rounds, config.sysid_steps,
                                        constants, progress, config.wall_spans,
                                        config.wall_placements)
    info: dict = {"trace": trace}
    quality = _choose_substeps(frames, counts, constants, config, info)
    if ip.RADIUS_HYPOTHESES[1] in config.radius_hypotheses:  # on the same sequences
        radius, evidence = sysid.choose_radius_hypothesis(
            frames[:SUBSTEP_SEQUENCES], counts[:SUBSTEP_SEQUENCES], constants,
            config.sysid_steps, config.wall_spans, config.wall_placements, quality)
        info.update(radius_hypothesis=radius, radius_evidence=evidence)
        refitted = radius == ip.RADIUS_HYPOTHESES[1] or evidence.get("trial_constants_kept")
        if refitted:  # on the trial's sequences only, and (per ball) the rest fitted to one radius
            _choose_substeps(frames, counts, constants, config, info, replace_walls=False)
            rounds = max(config.sysid_rounds - PER_BALL_HEAD_START, 1)
            sysid.identify_constants(frames, counts, rounds, config.sysid_steps, constants,
                                     False, config.wall_spans, config.wall_placements)
    if per_ball and ip.SPEED_HYPOTHESES[0] in config.speed_hypotheses:
        hypothesis, evidence = sysid.choose_speed_hypothesis(frames, counts, constants)
        info.update(speed_hypothesis=hypothesis, speed_evidence=evidence)
    return info


def _choose_substeps(frames: np.ndarray, counts: np.ndarray, constants: ip.WorldConstants,
                     config: InverseConfig, info: dict,
                     replace_walls: bool = True) -> dict[str, float] | None:
    """The number of sub-steps read from at most :data:`SUBSTEP_SEQUENCES` sequences (in
    ``constants``), its evidence in ``info``; with ``replace_walls`` the walls are placed
    again if it changed. Returns the fit quality of the constants as they stand, if no wall
    moved since (or none was to be placed)."""
    if len(config.substep_hypotheses) < 2:
        return None
    before = int(constants.substeps)
    substeps, quality = sysid.choose_substeps(frames[:SUBSTEP_SEQUENCES],
                                              counts[:SUBSTEP_SEQUENCES], constants,
                                              config.substep_hypotheses)
    info["substep_evidence"] = {str(k): v for k, v in quality.items()}
    if substeps != before and replace_walls:  # the walls were placed under other timing
        sysid.identify_constants(frames, counts, 0, config.sysid_steps, constants, False,
                                 config.wall_spans, config.wall_placements)
        return None
    return quality[substeps]


def load(checkpoint: str | Path) -> InversePhysicsPredictor:
    """A trained predictor from a finished checkpoint."""
    state = read_checkpoint(checkpoint, STATES, upgrade_checkpoint)
    if not state.get("encoder"):
        raise CheckpointError(f"{checkpoint}: training did not finish (no encoder weights).")
    constants, encoder = ip.WorldConstants(), pe.StateEncoder()
    constants.load_state_dict(state["constants"])
    encoder.load_state_dict(state["encoder"])
    return InversePhysicsPredictor(constants, encoder, state["info"], state["fingerprint"])


STATES = ("constants", "encoder", "info")  # what a checkpoint of this model holds


def config_key(config: InverseConfig) -> str:
    """The configuration as recorded in a fingerprint or a benchmark row."""
    return repr(asdict(config))


#: The state encoder's batch and learning rate before they were part of its recipe.
_FIRST_ENCODER = {"batch_size": 64, "lr": 2e-3}


def upgrade_config_key(key: str) -> str:
    """A :func:`config_key` of the first layout (``encoder_epochs`` where the encoder's recipe
    now is) in today's, so checkpoints and benchmark rows recorded before keep matching."""
    try:
        settings = ast.literal_eval(key)  # plain values only
    except (ValueError, SyntaxError):
        return key  # not a recorded configuration: matches none
    if not isinstance(settings, dict) or "encoder_epochs" not in settings:
        return key
    epochs = settings.pop("encoder_epochs")
    return config_key(InverseConfig(**settings, encoder=TrainConfig(epochs, **_FIRST_ENCODER)))


def upgrade_checkpoint(state: dict) -> dict:
    """A checkpoint of an earlier layout in today's, so checkpoints trained before keep being
    reused: the fingerprint inside ``info`` with no history (first layout), and the encoder's
    epochs as a setting of their own (:func:`upgrade_config_key`)."""
    if "fingerprint" not in state and "fingerprint" in state.get("info", {}):
        info = {k: v for k, v in state["info"].items() if k != "fingerprint"}
        state = {**state, "fingerprint": state["info"]["fingerprint"], "history": {},
                 "info": info}
    fingerprint = state.get("fingerprint")
    if isinstance(fingerprint, dict) and isinstance(fingerprint.get("config"), str):
        state = {**state, "fingerprint": {**fingerprint,
                                          "config": upgrade_config_key(fingerprint["config"])}}
    return state


def _save(path, fingerprint: dict, constants, encoder, info: dict) -> None:
    """Each stage's state, through the training loop's atomic checkpoint writer."""
    if path:
        save_checkpoint(path, fingerprint, History(), info=info, constants=constants,
                        encoder=encoder)


def _load(path, fingerprint: dict) -> dict | None:
    """The checkpoint's state if it was trained with ``fingerprint`` (else None, saying why)."""
    if not path or not Path(path).is_file():
        return None
    return matching_checkpoint(path, fingerprint, STATES, upgrade_checkpoint)
