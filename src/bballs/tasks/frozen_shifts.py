"""Task 4's frozen test, defined after every Task 4 recipe and the selection rule were fixed
and scored once (never used to choose or tune anything): fresh frames with the test file's
ball sizes, and three shifts unlike any training augmentation, held-out selection shift or
shift family.

* fresh test frames: a new seed, ball radii drawn per ball as in our test file;
* motion blur: each frame smeared 5 pixels along a random row, column or diagonal;
* textured background: a smooth random background of up to 0.3 added to each frame;
* grid lines: black lines every 8 pixels across the frame, cutting most balls in pieces.
"""

from __future__ import annotations

import numpy as np
import torch

from bballs.data import shifts
from bballs.data.dataset import TEST_RADIUS_RANGE
from bballs.metrics import seed_difference
from bballs.tasks.robustness import FAMILY_SIZE, _fresh_frames

FROZEN_SEED_OFFSET = 3_000  # its frames share no seed with the data files or the families
BLUR_LENGTH, TEXTURE_AMPLITUDE, GRID_SPACING = 5, 0.3, 8
SHIFTS = {"fresh test frames": "a new seed; ball radii {:g}–{:g} per ball, as in our test "
                               "file".format(*TEST_RADIUS_RANGE),
          "motion blur": f"smeared {BLUR_LENGTH} px along a random row, column or diagonal",
          "textured background": f"a smooth random background of up to {TEXTURE_AMPLITUDE}",
          "grid lines": f"black lines every {GRID_SPACING} px across rows and columns"}
NEW_SHIFTS = ("motion blur", "textured background", "grid lines")  # beside the fresh frames
COLUMNS = {"shift": "frozen test", "selected": "selected counter",
           "baseline": "baseline CNN", "components": "connected components",
           "verdict": "selected vs. baseline CNN"}


def frozen_shifts(n: int = FAMILY_SIZE, seed: int = 0) -> dict[str, dict]:
    """Fresh frames under each frozen shift, in the format of
    :func:`bballs.tasks.robustness.shift_families` (one level each)."""
    test_like, test_labels, _, _ = _fresh_frames(n, seed + FROZEN_SEED_OFFSET, TEST_RADIUS_RANGE)
    base, labels, _, _ = _fresh_frames(n, seed + FROZEN_SEED_OFFSET)
    x = torch.from_numpy(base)[:, None]
    generator = torch.Generator().manual_seed(seed + FROZEN_SEED_OFFSET)
    shifted = {
        "motion blur": shifts.motion_blur(x, BLUR_LENGTH,
                                          torch.randint(0, 4, (n,), generator=generator)),
        "textured background": shifts.background_texture(x, TEXTURE_AMPLITUDE, generator),
        "grid lines": shifts.grid_lines(x, GRID_SPACING,
                                        torch.randint(0, GRID_SPACING, (n,), generator=generator)),
    }
    frozen = {"fresh test frames": {"levels": (1,), "unit": SHIFTS["fresh test frames"],
                                    "frames": [test_like], "labels": [test_labels]}}
    frozen.update({name: {"levels": (1,), "unit": SHIFTS[name], "frames": [frames[:, 0].numpy()],
                          "labels": [labels]} for name, frames in shifted.items()})
    return frozen


def frozen_table(accuracy: dict[str, dict], seeds: int) -> dict:
    """The frozen test as a declared table (accuracies in %, the networks' as mean ± std over
    ``seeds``) from :func:`bballs.tasks.robustness.family_accuracy`'s output, with the seed
    verdict of the selected counter against the baseline CNN."""
    rows = []
    for name, entry in accuracy.items():
        std = entry.get("std") or {}
        row = {"shift": name, "seeds": seeds, "components": entry["connected components"][0]}
        for key, counter in (("selected", "selected counter"), ("baseline", "baseline CNN")):
            row[f"{key}_mean"] = entry[counter][0]
            row[f"{key}_std"] = (std.get(counter) or [None])[0]
        means = [{"accuracy": row[f"{k}_mean"], "accuracy_std": row[f"{k}_std"], "seeds": seeds}
                 for k in ("selected", "baseline")]
        row["verdict"] = seed_difference(*means, "accuracy",
                                         ("selected counter", "baseline CNN"))["verdict"]
        rows.append(row)
    return {"columns": COLUMNS, "rows": rows, "percent": ["selected", "baseline", "components"]}


def mean_accuracy(table: dict, key: str) -> float:
    """The mean of one column's accuracy over the frozen shifts."""
    return float(np.mean([row.get(f"{key}_mean", row.get(key)) for row in table["rows"]]))
