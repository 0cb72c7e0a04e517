"""Dataset generation (faithful to Table 1 and the original physics) and safe loading."""

from __future__ import annotations

import zipfile

import numpy as np
import pytest

from bballs.data import dataset as bdata
from bballs.data import physics

EXPECTED = {
    bdata.PART1_TRAIN: ((500, 1, 1024), (500,)),
    bdata.PART1_TEST: ((200, 1, 1024), (200,)),
    bdata.PART2_SEQUENCES: ((5000, 10, 1024), (5000,)),
}


@pytest.mark.parametrize("name", list(EXPECTED))
def test_files_have_the_documented_keys_shapes_and_types(dataset_dir, name):
    with np.load(dataset_dir / name, allow_pickle=False) as archive:
        frames, labels = archive["data"], archive["labels"]
        assert {"data", "labels", "positions", "radii"} <= set(archive.files)
    assert (frames.shape, labels.shape) == EXPECTED[name]
    assert frames.dtype == np.float32 and labels.dtype == np.int64
    assert frames.min() >= 0.0 and frames.max() <= 1.0 and frames.max() == 1.0
    counts = np.bincount(labels, minlength=4)
    assert counts[0] == 0 and counts[1:].max() - counts[1:].min() <= 1


def test_labels_equal_the_number_of_balls_present(dataset_dir):
    for name in EXPECTED:
        truth = bdata.load_ground_truth(dataset_dir / name)
        _, labels = bdata.load_npz(dataset_dir / name)
        assert np.array_equal((truth["radii"] > 0).sum(axis=1), labels)


def test_same_seed_gives_identical_files_and_another_seed_differs(tmp_path):
    small = (bdata.FileSpec("a.npz", 30, 4), bdata.FileSpec("b.npz", 30, 1, (0.8, 1.6)))
    first = bdata.generate_dataset(tmp_path / "one", seed=3, files=small)
    again = bdata.generate_dataset(tmp_path / "two", seed=3, files=small)
    other = bdata.generate_dataset(tmp_path / "three", seed=4, files=small)
    for a, b, c in zip(first, again, other):
        assert np.array_equal(bdata.load_npz(a)[0], bdata.load_npz(b)[0])
        assert not np.array_equal(bdata.load_npz(a)[0], bdata.load_npz(c)[0])


def test_balls_stay_in_the_box(dataset_dir):
    truth = bdata.load_ground_truth(dataset_dir / bdata.PART2_SEQUENCES)
    radii = truth["radii"][:, None, :, None]
    present = np.broadcast_to(radii > 0, truth["positions"].shape)
    centres = truth["positions"][present]
    edges_low = (truth["positions"] - radii)[present]
    edges_high = (truth["positions"] + radii)[present]
    assert centres.min() > 0 and centres.max() < physics.BOX_SIZE
    # A ball is reflected after the sub-step that crosses a wall, as in the original generator,
    # so its edge may pass the wall by at most one sub-step (0.5 * speed <= 0.25).
    overshoot = physics.SPEED / physics.SUBSTEPS
    assert edges_low.min() >= -overshoot and edges_high.max() <= physics.BOX_SIZE + overshoot


def test_start_positions_follow_the_original_rules():
    rng = np.random.default_rng(0)
    _, radii = bdata.draw_radii(300, None, rng)
    positions, velocities = physics.initial_state(radii, rng)
    present = radii > 0
    assert positions[present].min() >= 2 and positions[present].max() < 10
    assert np.allclose(np.linalg.norm(velocities.reshape(300, -1), axis=1), physics.SPEED)
    assert physics._valid_configuration(positions, radii).all()


def test_test_file_has_the_radius_shift_and_training_file_does_not(dataset_dir):
    train = bdata.load_ground_truth(dataset_dir / bdata.PART1_TRAIN)["radii"]
    test = bdata.load_ground_truth(dataset_dir / bdata.PART1_TEST)["radii"]
    assert np.unique(train[train > 0]).tolist() == [pytest.approx(physics.RADIUS)]
    shifted = test[test > 0]
    low, high = bdata.TEST_RADIUS_RANGE
    assert shifted.min() >= low and shifted.max() <= high and shifted.std() > 0.15


def test_elastic_collision_conserves_energy_and_momentum():
    positions = np.array([[[3.0, 5.0], [5.5, 5.0], [0.0, 0.0]]])  # 0.1 apart, approaching
    velocities = np.array([[[0.4, 0.1], [-0.2, 0.0], [0.0, 0.0]]])
    radii = np.array([[1.2, 1.2, 0.0]])
    momentum, energy = velocities.sum(axis=1), (velocities**2).sum()
    physics.step(positions, velocities, radii)
    assert np.allclose(velocities.sum(axis=1), momentum) and np.isclose((velocities**2).sum(),
                                                                          energy)
    assert velocities[0, 0, 0] < 0 < velocities[0, 1, 0]


def test_render_draws_a_ball_where_it_is():
    track = np.array([[[[2.5, 7.5], [0, 0], [0, 0]]]])
    frame = physics.render(track, np.array([[1.2, 0.0, 0.0]]))[0, 0]
    row, col = np.unravel_index(frame.argmax(), frame.shape)
    assert frame.max() == pytest.approx(1.0, abs=1e-3)
    assert (row, col) in {(23, 7), (24, 7), (23, 8), (24, 8)}  # y = 7.5 -> row 24, x = 2.5 -> col 8



def test_the_ball_profile_is_exp_to_float32_precision():
    q = np.concatenate([np.linspace(0.0, 4.0, 20001), [0.5**0.25, 1.0, 3.3, 50.0, 1e6]])
    exact = np.exp(-(q.astype(np.longdouble) ** 4))
    ours = physics.profile(q, power=4)
    near = q**4 < 100  # beyond, exp is 0 once stored as float32 and the profile returns 0
    assert np.max(np.abs(ours - exact)[near] / exact[near]) < 1e-13  # q**4 rounds in float64
    assert np.array_equal(ours.astype(np.float32), exact.astype(np.float32))
    assert physics.profile(np.array([2.0]), power=2.5)[0] == pytest.approx(np.exp(-(2.0**2.5)))


# Digest of the small file below as every CPU must write it. numpy's vectorised exp and power
# differ in the last bit between CPU kinds (AVX2, AVX-512), so a renderer using them would write
# other frames from the same seed on another machine.
SMALL_FILE_DIGEST = "92f8db63ca89ced2"


def _small_file_digest(seed: int = 5) -> str:
    import hashlib

    spec = bdata.FileSpec("small.npz", 40, 6, (0.8, 1.6))
    arrays = bdata.generate_arrays(spec, np.random.default_rng(seed))
    return hashlib.sha256(arrays["data"].tobytes() + arrays["positions"].tobytes()).hexdigest()[:16]


def test_the_same_seed_gives_the_same_frames_on_every_cpu():
    assert _small_file_digest() == SMALL_FILE_DIGEST


def test_the_frames_do_not_depend_on_numpys_simd_paths():
    """Same bits with numpy's dispatched SIMD kernels (AVX2, AVX-512, ...) switched off."""
    import os
    import subprocess
    import sys

    from numpy._core import _multiarray_umath as umath

    found = [name for name in umath.__cpu_dispatch__ if umath.__cpu_features__.get(name)]
    if not found:
        pytest.skip("numpy dispatches no SIMD kernels on this CPU")
    env = {**os.environ, "NPY_DISABLE_CPU_FEATURES": " ".join(found)}
    code = "import test_dataset as t; print(t._small_file_digest())"
    out = subprocess.run([sys.executable, "-c", code], env=env, check=True, text=True,
                         capture_output=True, cwd=os.path.dirname(__file__)).stdout.split()[-1]
    assert out == _small_file_digest()

# --- loader -------------------------------------------------------------------------------------

def _save(path, **arrays):
    np.savez(path, **arrays)
    return path


def test_loader_returns_images_and_labels(dataset_dir):
    frames, labels = bdata.load_npz(dataset_dir / bdata.PART1_TRAIN)
    assert frames.shape == (500, 1, 32, 32) and frames.dtype == np.float32
    assert labels.dtype == np.int64 and set(labels) == {1, 2, 3}


@pytest.mark.parametrize("variant", ["label_key", "square_frames", "uint8", "float64"])
def test_loader_accepts_official_format_variants(tmp_path, variant):
    rng = np.random.default_rng(0)
    frames = rng.random((6, 2, 1024)).astype(np.float32)
    labels = np.array([1, 2, 3, 1, 2, 3])
    arrays = {"data": frames, "labels": labels}
    if variant == "label_key":
        arrays = {"data": frames, "label": labels.astype(np.float64)}
    elif variant == "square_frames":
        arrays["data"] = frames.reshape(6, 2, 32, 32)
    elif variant == "uint8":
        arrays["data"] = np.round(frames * 255).astype(np.uint8)
    else:
        arrays["data"] = frames.astype(np.float64)
    loaded, loaded_labels = bdata.load_npz(_save(tmp_path / "f.npz", **arrays))
    assert loaded.shape == (6, 2, 32, 32) and loaded.dtype == np.float32
    assert np.allclose(loaded.reshape(6, 2, 1024), frames, atol=1 / 255)
    assert loaded_labels.tolist() == labels.tolist()


def _bad_files(tmp_path):
    good = np.zeros((4, 1, 1024), np.float32)
    labels = np.array([1, 2, 3, 1])
    truncated = tmp_path / "truncated.npz"
    _save(truncated, data=good, labels=labels)
    truncated.write_bytes(truncated.read_bytes()[:200])
    garbage = tmp_path / "garbage.npz"
    garbage.write_bytes(b"this is not a numpy archive at all")
    objects = np.empty(4, dtype=object)
    objects[:] = [[1], [2], [3], [4]]
    nan = good.copy()
    nan[0, 0, 0] = np.nan
    return {
        "missing": (tmp_path / "nowhere.npz", "python -m bballs data"),
        "truncated": (truncated, "corrupt"),
        "garbage": (garbage, "corrupt"),
        "no_data_key": (_save(tmp_path / "k.npz", images=good, labels=labels), "'data'"),
        "no_labels_key": (_save(tmp_path / "l.npz", data=good), "'labels' or 'label'"),
        "wrong_shape": (_save(tmp_path / "s.npz", data=np.zeros((4, 1, 1000)), labels=labels),
                        "shape"),
        "label_count": (_save(tmp_path / "c.npz", data=good, labels=labels[:3]),
                        "one label per sequence"),
        "nan": (_save(tmp_path / "n.npz", data=nan, labels=labels), "NaN"),
        "out_of_range": (_save(tmp_path / "r.npz", data=good + 2, labels=labels), "[0, 1]"),
        "object_array": (_save(tmp_path / "o.npz", data=good, labels=objects), "pickled"),
    }


@pytest.mark.parametrize("case", ["missing", "truncated", "garbage", "no_data_key",
                                  "no_labels_key", "wrong_shape", "label_count", "nan",
                                  "out_of_range", "object_array"])
def test_loader_rejects_bad_files_with_one_clear_error(tmp_path, case):
    path, expected = _bad_files(tmp_path)[case]
    error_type = FileNotFoundError if case == "missing" else ValueError
    with pytest.raises(error_type) as caught:
        bdata.load_npz(path)
    assert str(path) in str(caught.value) and expected in str(caught.value)


def test_loader_never_unpickles(tmp_path, monkeypatch):
    calls = []
    original = np.load
    monkeypatch.setattr(np, "load", lambda *a, **k: calls.append(k) or original(*a, **k))
    bdata.load_npz(_save(tmp_path / "f.npz", data=np.zeros((2, 1, 1024)), labels=[1, 2]))
    assert calls and all(call.get("allow_pickle") is False for call in calls)


def test_truncated_file_is_a_real_zip_error(tmp_path):
    path, _ = _bad_files(tmp_path)["truncated"]
    with pytest.raises(zipfile.BadZipFile):
        zipfile.ZipFile(path)


def test_split_is_first_80_percent_then_last_20_percent():
    rows = np.arange(500)
    train, val = bdata.split_train_val(rows)
    assert train.tolist() == list(range(400)) and val.tolist() == list(range(400, 500))
    train, val = bdata.split_train_val(np.arange(5000))
    assert (len(train), len(val)) == (4000, 1000) and val[0] == 4000


def test_ensure_dataset_makes_only_the_files_asked_for_and_the_same_bytes(tmp_path):
    from bballs.data import dataset as bdata

    bdata.ensure_dataset(tmp_path / "one", seed=3, files=[bdata.PART2_SEQUENCES])
    assert sorted(p.name for p in (tmp_path / "one").glob("*.npz")) == [bdata.PART2_SEQUENCES]
    bdata.generate_dataset(tmp_path / "all", seed=3)
    alone, together = (bdata.load_npz(tmp_path / d / bdata.PART2_SEQUENCES) for d in ("one", "all"))
    assert (alone[0] == together[0]).all() and (alone[1] == together[1]).all()


def test_the_data_source_of_a_folder_holding_one_file_names_that_file(tmp_path):
    from bballs.data import dataset as bdata
    from bballs.data.identity import data_source

    bdata.ensure_dataset(tmp_path, seed=1, files=[bdata.PART2_SEQUENCES])
    source = data_source(tmp_path)
    assert list(source["files"]) == [bdata.PART2_SEQUENCES]
    assert source["origin"] == "generated with seed 1"
    bdata.ensure_dataset(tmp_path, seed=1)  # now all three files
    assert len(data_source(tmp_path)["files"]) == 3
    assert data_source(tmp_path, [bdata.PART2_SEQUENCES]) == source  # only the files a lab uses
