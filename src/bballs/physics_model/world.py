"""The world of the physics model: its global constants (radius, walls, profile exponent,
speed) as trainable parameters, the brightness of a ball's centre read from the frames, and the
structural hypotheses system identification chooses among (sub-steps per frame, shared or
per-ball speed, one radius or a radius per ball). Lengths are in pixels, pixel ``i`` centred at
coordinate ``i``."""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from bballs.physics_model import torch_physics as tp

CONSTANT_NAMES = ("radius", "box", "exponent", "offset", "speed")
SPEED_HYPOTHESES = ("shared", "per ball")  # one speed per sequence; a free velocity per ball
RADIUS_HYPOTHESES = ("shared", "per ball")  # one radius for the world; a radius fitted per ball
#: Deliberately wrong starting values of the constants (pixels, frames); fitted from data.
INITIAL_GUESS = {"radius": 3.0, "box": 30.0, "exponent": 2.5, "offset": 0.0, "speed": 1.0}


class WorldConstants(nn.Module):
    """The global constants of the simulator and renderer as trainable parameters."""

    def __init__(self, radius: float = INITIAL_GUESS["radius"], box: float = INITIAL_GUESS["box"],
                 exponent: float = INITIAL_GUESS["exponent"],
                 offset: float = INITIAL_GUESS["offset"], speed: float = INITIAL_GUESS["speed"],
                 shared_speed: bool = True, substeps: int = tp.SUBSTEPS,
                 radius_per_ball: bool = False, peak: float = 1.0):
        super().__init__()
        self.register_buffer("shared_speed", torch.tensor(bool(shared_speed)))
        self.register_buffer("radius_per_ball", torch.tensor(bool(radius_per_ball)))
        self.register_buffer("substeps", torch.tensor(int(substeps)))
        self.register_buffer("peak", torch.tensor(float(peak)))
        self.log_radius = nn.Parameter(torch.tensor(math.log(radius)))
        self.low = nn.Parameter(torch.tensor(-float(offset)))
        self.high = nn.Parameter(torch.tensor(box - offset))
        self.log_exponent = nn.Parameter(torch.tensor(math.log(exponent)))
        self.log_speed = nn.Parameter(torch.tensor(math.log(speed)))

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        # constants saved before the radius hypothesis existed had one radius for the world
        state_dict.setdefault(prefix + "radius_per_ball", torch.tensor(False))
        state_dict.setdefault(prefix + "peak", torch.tensor(1.0))  # and balls of brightness 1
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    @property
    def radius(self) -> Tensor:
        """The world's radius (under the per-ball hypothesis: each ball's first guess)."""
        return self.log_radius.exp()

    @property
    def box(self) -> Tensor:
        return self.high - self.low

    @property
    def offset(self) -> Tensor:
        return -self.low

    @property
    def exponent(self) -> Tensor:
        return self.log_exponent.exp()

    @property
    def speed(self) -> Tensor:
        return self.log_speed.exp()

    @property
    def speed_constraint(self) -> Tensor | None:
        """The total speed velocities are scaled to, or None (per-ball speed: free)."""
        return self.speed if bool(self.shared_speed) else None

    @property
    def hypothesis(self) -> str:
        return SPEED_HYPOTHESES[0] if bool(self.shared_speed) else SPEED_HYPOTHESES[1]

    @property
    def radius_hypothesis(self) -> str:
        return RADIUS_HYPOTHESES[1] if bool(self.radius_per_ball) else RADIUS_HYPOTHESES[0]

    def walls(self) -> list[nn.Parameter]:
        return [self.low, self.high]

    def shape_parameters(self) -> list[nn.Parameter]:
        return [self.log_radius, self.log_exponent, self.log_speed]

    def as_dict(self) -> dict[str, float]:
        """The constants in pixels and frames."""
        with torch.no_grad():
            return {name: float(getattr(self, name)) for name in CONSTANT_NAMES}

    def frozen(self) -> dict[str, float]:
        """Plain numbers for :mod:`~bballs.physics_model.gauss_newton`: radius, walls, exponent,
        speed (None: per ball), sub-steps per frame."""
        with torch.no_grad():
            values = {name: float(getattr(self, name))
                      for name in ("radius", "low", "high", "exponent", "speed")}
        return {**values, "speed": values["speed"] if bool(self.shared_speed) else None,
                "substeps": int(self.substeps), "radius_per_ball": bool(self.radius_per_ball)}

    def in_box_units(self, box_size: float = 10.0) -> dict[str, float]:
        """The constants with lengths rescaled so that the box measures ``box_size``."""
        values = self.as_dict()
        unit = values["box"] / box_size
        speed = values["speed"] / unit if bool(self.shared_speed) else None
        return {"radius": values["radius"] / unit, "box": box_size,
                "exponent": values["exponent"], "pixel_offset": values["offset"],
                "pixel_size": 1.0 / unit, "speed": speed, "speed_hypothesis": self.hypothesis,
                "substeps": int(self.substeps), "radius_hypothesis": self.radius_hypothesis,
                "peak": float(self.peak)}

    def speed_rule(self, box_size: float = 10.0) -> str:
        """The speed hypothesis in words, with the speed in box units per frame if shared."""
        speed = self.in_box_units(box_size)["speed"]
        return (f"{speed:.4f} per frame, shared by the balls of a sequence" if speed is not None
                else "set per ball (no speed shared by a sequence)")

    def describe(self, box_size: float = 10.0) -> str:
        """The fitted constants in box units on one line, then the speed rule."""
        values = {k: v for k, v in self.in_box_units(box_size).items()
                  if k not in ("speed", "speed_hypothesis", "substeps", "radius_hypothesis",
                               "peak")}
        fitted = ", ".join(f"{k} {v:.4f}" for k, v in values.items())
        radius = "; radius fitted per ball" if bool(self.radius_per_ball) else ""
        radius += f"; balls of brightness {float(self.peak):.3f}" if float(self.peak) != 1 else ""
        return (f"{fitted}{radius}; {int(self.substeps)} sub-steps per frame; "
                f"speed {self.speed_rule(box_size)}")
