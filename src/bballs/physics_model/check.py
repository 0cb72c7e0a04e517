"""Does the world of the Task 7 physics model reproduce a file's Part 2 sequences?

A seeded sample of sequences is used for a short system identification
(:func:`~bballs.physics_model.system_identification.identify_constants`), then every sampled
sequence is fitted (:func:`~bballs.physics_model.inverse_physics.fit_sequences`) with the fitted
constants. Training starts the constants from deliberately wrong values and needs minutes; this
check starts from the constants of the documented generator (:mod:`bballs.data.physics`), so a
few seconds suffice: sequences of that generator are reproduced at once, and sequences of a
somewhat different world move the constants (reported), though a low share may then also mean
that the short budget was not enough.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import torch

from bballs.data import physics
from bballs.physics_model import inverse_physics as ip
from bballs.physics_model import system_identification as sysid

#: Per-sequence MSE below which a sequence counts as reproduced. On generated files the fitted
#: sequences reach about 2e-7 and the others stay above 1e-3 (8-bit rounding adds under 1e-6).
EXACT_MSE = 1e-4
SYSID_ROUNDS = 1
SYSID_STEPS = 10


def generator_constants() -> ip.WorldConstants:
    """The generator's constants in pixel units (pixel i centred at coordinate i)."""
    unit = physics.RESOLUTION / physics.BOX_SIZE
    return ip.WorldConstants(radius=physics.RADIUS * unit, box=physics.BOX_SIZE * unit,
                             exponent=float(physics.PROFILE_POWER), offset=0.5,
                             speed=physics.SPEED * unit)


@dataclass
class PhysicsCheck:
    """How well the fitted world reproduces the sampled sequences."""

    n_sequences: int
    n_frames: int
    seed: int
    exact_share: float  # share of sequences with MSE below ``threshold`` above the noise floor
    median_mse: float
    threshold: float
    noise_floor: float  # median over the sample of :func:`~ip.noise_floor`
    later_start: float  # share fitted from frame 1 or 2 (a bounce between the first frames)
    constants: dict[str, float | str | None]  # fitted, in box units (and the speed rule)
    generator: dict[str, float]  # the generator's, in box units
    seconds: float


def sample_rows(n_total: int, n_sample: int, seed: int) -> np.ndarray:
    """``n_sample`` distinct sorted row indices out of ``n_total`` (all if fewer)."""
    rng = np.random.default_rng(seed)
    return np.sort(rng.choice(n_total, min(n_sample, n_total), replace=False))


def check_physics(frames: np.ndarray, counts: np.ndarray, n_sequences: int = 64, seed: int = 0,
                  steps: int = SYSID_STEPS, threshold: float = EXACT_MSE) -> PhysicsCheck:
    """Identify the constants on a sample of sequences (N, T, 32, 32) with ball counts (N,),
    then fit each sampled sequence and measure its mean squared error over the fitted frames
    (a sequence is reproduced below ``threshold`` above its noise floor)."""
    started = time.perf_counter()
    rows = sample_rows(len(frames), n_sequences, seed)
    sample = np.asarray(frames[rows], dtype=np.float32)
    sample_counts = np.asarray(counts)[rows].astype(np.int64)
    torch.manual_seed(seed)
    constants, _ = sysid.identify_constants(sample, sample_counts, rounds=SYSID_ROUNDS, steps=steps,
                                         constants=generator_constants(), progress=False,
                                         wall_spans=())
    _, start, error = ip.fit_sequences(torch.from_numpy(sample), sample_counts, constants)
    error = error.numpy()
    exact = error < ip.exact_threshold(sample, threshold).numpy()
    return PhysicsCheck(
        n_sequences=len(rows), n_frames=sample.shape[1], seed=seed,
        exact_share=float(exact.mean()), median_mse=float(np.median(error)), threshold=threshold,
        noise_floor=float(np.median(ip.noise_floor(sample).numpy())),
        later_start=float((start > 0).float().mean()),
        constants=constants.in_box_units(), generator=generator_constants().in_box_units(),
        seconds=time.perf_counter() - started)


def format_physics(check: PhysicsCheck) -> str:
    """The check as text: shares, median error, fitted constants next to the generator's."""
    lines = [
        f"Physics model fit (Task 7 world) on {check.n_sequences} Part 2 sequences "
        f"(seed {check.seed}, {check.n_frames} frames each, {check.seconds:.1f} s):",
        f"  reproduced (per-sequence MSE < {check.threshold:.0e} above the noise floor): "
        f"{check.exact_share:.0%}   median MSE {check.median_mse:.2e}, noise floor "
        f"{check.noise_floor:.2e}",
        f"  (MSE over the frames fitted: all, or from frame 1 or 2 after an early bounce, "
        f"{check.later_start:.0%} of the sample)",
        f"  {'constant (box = 10)':<22} {'fitted':>8} {'generator':>10}",
    ]
    for name, value in check.constants.items():
        if name != "box" and isinstance(value, float):  # box: the unit of the others
            lines.append(f"  {name:<22} {value:>8.4g} {check.generator[name]:>10.4g}")
    lines.append(f"  speed rule: {check.constants.get('speed_hypothesis', 'shared')}")
    lines.append("  " + verdict(check))
    return "\n".join(lines)


def verdict(check: PhysicsCheck) -> str:
    """One sentence on what the shares mean."""
    if check.exact_share >= 0.8:
        return "The physics model's world reproduces these sequences."
    if check.exact_share >= 0.3:
        return ("The world reproduces only part of the sequences: the constants may need the "
                "longer identification of training (`python -m bballs bench-physics`), or the "
                "files follow other physics.")
    return ("The world does not reproduce these sequences: other physics or rendering, frames "
            "out of order, or constants too far from the generator's for this short "
            "identification.")
