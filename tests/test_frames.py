"""Single frames for notebooks 03-05: splits by sequence, counts, state and instance masks."""

import numpy as np

from bballs.data import frames as bframes
from bballs.data.dataset import PART2_SEQUENCES, load_npz


def test_splits_are_disjoint_ranges_of_sequences():
    splits = bframes.split_sequences(5000)
    assert (splits["train"], splits["val"], splits["test"]) == (
        slice(0, 4000), slice(4000, 4500), slice(4500, 5000))


def test_frames_come_from_their_split_with_their_counts(dataset_dir):
    data = bframes.load_frames(dataset_dir)
    sequences, labels = load_npz(dataset_dir / PART2_SEQUENCES)
    n = len(sequences)
    steps = len(bframes.FRAME_STEPS)
    assert len(data.train) == round(0.8 * n) * steps
    first_test = round(0.9 * n)
    np.testing.assert_array_equal(data.test.frames[0, 0].numpy(),
                                  sequences[first_test, bframes.FRAME_STEPS[0]])
    np.testing.assert_array_equal(data.test.frames[1, 0].numpy(),
                                  sequences[first_test, bframes.FRAME_STEPS[1]])
    assert data.test.counts[0] == data.test.counts[1] == labels[first_test]
    assert set(data.train.counts.unique().tolist()) <= {1, 2, 3}
    described = bframes.describe(data, seed=0, quick=False)
    assert described["test"] == len(data.test) and described["ground_truth"]


def test_quick_mode_keeps_small_subsets(dataset_dir):
    data = bframes.load_frames(dataset_dir, quick=True)
    sizes = {name: len(getattr(data, name)) for name in ("train", "val", "test")}
    assert all(sizes[k] <= v for k, v in bframes.QUICK_SIZES.items())
    assert data.train.positions.shape == (sizes["train"], 3, 2)


def test_instance_masks_match_the_rendered_frame_and_the_ball_count(dataset_dir):
    data = bframes.load_frames(dataset_dir, quick=True)
    masks = bframes.ball_masks(data.test.positions, data.test.radii)
    foreground = data.test.frames[:, 0].numpy() > 0.5
    assert (masks.any(1) == foreground).mean() > 0.999
    present = masks.reshape(len(masks), 3, -1).any(-1).sum(1)
    np.testing.assert_array_equal(present, data.test.counts.numpy())
