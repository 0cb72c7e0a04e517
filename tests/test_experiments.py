"""Project 1's sweeps cache their runs by what exists: a recorded row is reused only with its
checkpoint, its fingerprint and its data; anything else trains or scores again."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from bballs.core.files import output_paths, project_root, read_results, update_results
from bballs.data import dataset as bdata
from bballs.models.spec import BallCounter
from bballs.tasks import part1_task4, part2_recipes
from bballs.training import experiments
from bballs.training.checkpoints import CheckpointError, fingerprint, load_weights
from bballs.training.loop import Supervised, TrainConfig, fit

FINAL = part1_task4.TASK4_FINAL


@pytest.fixture
def context(dataset_dir, tmp_path):
    return experiments.Context(output_paths(tmp_path), dataset_dir, quick=True)


def _checkpoint(context, variant=FINAL, seed=0) -> Path:
    return part1_task4.TASK4.checkpoint(context.paths, variant, seed)


# --- runs are cached by what exists -------------------------------------------------------------

def test_recorded_row_without_checkpoint_trains_again(context):
    """The fresh-clone case: results are committed, checkpoints are not."""
    _, first = experiments.final_model(part1_task4.TASK4, FINAL, 0, context)
    _checkpoint(context).unlink()
    model, again = experiments.final_model(part1_task4.TASK4, FINAL, 0, context)
    assert _checkpoint(context).is_file() and again is not first
    assert again["fingerprint"] == first["fingerprint"]
    assert again["test_accuracy"] == pytest.approx(first["test_accuracy"])
    rows = read_results(part1_task4.TASK4.results_file(context.paths))["rows"]
    assert len([r for r in rows if r["variant"] == FINAL.name]) == 1


def test_row_with_a_foreign_fingerprint_is_retrained_and_replaced(context):
    results = part1_task4.TASK4.results_file(context.paths)
    _, row = experiments.final_model(part1_task4.TASK4, FINAL, 0, context)
    update_results(results, "rows", [{**row, "fingerprint": "other", "test_accuracy": -1.0}])
    _, again = experiments.final_model(part1_task4.TASK4, FINAL, 0, context)
    assert again["fingerprint"] == row["fingerprint"] and again["test_accuracy"] >= 0
    assert read_results(results)["rows"] == [json.loads(json.dumps(again))]


def _data_with_one_file_changed(context, tmp_path, changed: str, change) -> Path:
    """A data folder with the context's files, ``changed`` rewritten after ``change(arrays)``
    and the others linked."""
    folder = tmp_path / "other"
    folder.mkdir()
    for spec in bdata.DEFAULT_FILES:
        if spec.name != changed:
            (folder / spec.name).symlink_to(context.data_dir / spec.name)
    with np.load(context.data_dir / changed) as archive:
        arrays = dict(archive)
    change(arrays)
    np.savez(folder / changed, **arrays)
    return folder


def test_row_of_other_data_is_retrained_and_left_out_of_tables(context, tmp_path, capsys):
    first = experiments.run_sweep(part1_task4.TASK4, (FINAL,), (0,), context)
    assert first[0]["data"] == context.data_digest()
    def flip_one_pixel(arrays):
        arrays["data"][0, 0, 500] = 1.0 - arrays["data"][0, 0, 500]

    other_dir = _data_with_one_file_changed(context, tmp_path, bdata.PART1_TRAIN, flip_one_pixel)
    other = experiments.Context(context.paths, other_dir, quick=True)
    assert experiments.mode_rows(context.paths, part1_task4.TASK4, True, other_dir) == []
    assert "1 recorded rows come from other data" in capsys.readouterr().out
    stamp = _checkpoint(context).stat().st_mtime_ns
    again = experiments.run_sweep(part1_task4.TASK4, (FINAL,), (0,), other)
    assert "data changed: train digest" in capsys.readouterr().out
    assert _checkpoint(context).stat().st_mtime_ns != stamp
    assert again[0]["data"] == other.data_digest() != first[0]["data"]
    assert again[0]["fingerprint"] != first[0]["fingerprint"] and len(again) == 1
    assert experiments.mode_rows(context.paths, part1_task4.TASK4, True, other_dir) == again


def test_row_scored_on_another_test_file_is_scored_again_without_training(context, tmp_path):
    first = experiments.run_sweep(part1_task4.TASK4, (FINAL,), (0,), context)
    stamp = _checkpoint(context).stat().st_mtime_ns
    def roll_labels(arrays):  # another test file, same training data
        arrays["labels"] = np.roll(arrays["labels"], 1)

    other_dir = _data_with_one_file_changed(context, tmp_path, bdata.PART1_TEST, roll_labels)
    other = experiments.Context(context.paths, other_dir, quick=True)
    again = experiments.run_sweep(part1_task4.TASK4, (FINAL,), (0,), other)
    assert _checkpoint(context).stat().st_mtime_ns == stamp  # not retrained
    assert again[0]["data"] == other.data_digest() != first[0]["data"]
    assert again[0]["fingerprint"] == first[0]["fingerprint"]


def test_valid_row_and_checkpoint_are_reused_and_force_retrains(context):
    first = experiments.run_sweep(part1_task4.TASK4, (FINAL,), (0,), context)
    stamp = _checkpoint(context).stat().st_mtime_ns
    assert experiments.run_sweep(part1_task4.TASK4, (FINAL,), (0,), context) == first
    assert _checkpoint(context).stat().st_mtime_ns == stamp
    forced = experiments.run_sweep(part1_task4.TASK4, (FINAL,), (0,), context, force=True)
    assert _checkpoint(context).stat().st_mtime_ns != stamp and len(forced) == 1


def test_row_missing_a_new_score_is_scored_again_without_training(context):
    first = experiments.run_sweep(part1_task4.TASK4, (FINAL,), (0,), context)
    stamp = _checkpoint(context).stat().st_mtime_ns
    old = {k: v for k, v in first[0].items() if k != "shifted_val_accuracy"}
    update_results(part1_task4.TASK4.results_file(context.paths), "rows", [old])
    again = experiments.run_sweep(part1_task4.TASK4, (FINAL,), (0,), context)
    assert again[0]["shifted_val_accuracy"] == pytest.approx(first[0]["shifted_val_accuracy"])
    assert _checkpoint(context).stat().st_mtime_ns == stamp


def test_sweep_plan_has_no_task_branches_and_runs_the_final_recipe_on_every_seed(context):
    small = experiments.replace(part1_task4.TASK4, variants=(part1_task4.TASK4_VARIANTS[0], FINAL))
    rows = experiments.sweep(small, context, seeds=(0, 1), ablation_seeds=1)
    assert sorted((r["variant"], r["seed"]) for r in rows) == [
        (FINAL.name, 0), (FINAL.name, 1), ("spec", 0)]


def test_the_variants_whose_gains_are_ranked_run_on_every_seed(context):
    spec = part1_task4.TASK4_VARIANTS[0]
    small = experiments.replace(part1_task4.TASK4, variants=(spec, FINAL), every_seed=("spec",))
    rows = experiments.sweep(small, context, seeds=(0, 1), ablation_seeds=1)
    assert sorted((r["variant"], r["seed"]) for r in rows) == [
        (FINAL.name, 0), (FINAL.name, 1), ("spec", 0), ("spec", 1)]
    assert set(part2_recipes.TASK7.every_seed) <= {v.name for v in part2_recipes.TASK7.variants}


def test_variants_name_their_study_and_model_class():
    assert all(v.study == "ablation" for v in part1_task4.TASK4.variants)
    assert not any("@" in v.name for v in part1_task4.TASK4.variants)
    assert part1_task4.TASK4.final.name == "countnet+sym+scale+looks"
    assert part2_recipes.TASK7.final.name == "predictor+sym+time+bce"
    assert all(isinstance(v.model, type) for v in part2_recipes.TASK7.variants)


def test_load_weights_refuses_a_checkpoint_of_another_configuration(tmp_path):
    x, y = torch.rand(8, 1, 32, 32), torch.randint(0, 3, (8,))
    config = TrainConfig(epochs=1, tag="a")
    fit(BallCounter(), (x, y), (x, y), Supervised(torch.nn.CrossEntropyLoss(), True), config,
        checkpoint=tmp_path / "c.pt")
    model = BallCounter()
    load_weights(model, tmp_path / "c.pt", fingerprint(model, config, (x, y)))
    other = TrainConfig(epochs=1, tag="b")
    with pytest.raises(CheckpointError, match=r"tag: 'a' -> 'b'"):
        load_weights(model, tmp_path / "c.pt", fingerprint(model, other, (x, y)))
    with pytest.raises(CheckpointError, match="not found"):
        load_weights(model, tmp_path / "none.pt", fingerprint(model, config, (x, y)))


def test_sweep_rows_are_recorded_once_and_reused(dataset_dir, tmp_path):
    from bballs.core.files import output_paths

    context = experiments.Context(output_paths(tmp_path), dataset_dir, quick=True)
    variant = part1_task4.TASK4_VARIANTS[0]
    first = experiments.run_sweep(part1_task4.TASK4, (variant,), (0,), context)
    again = experiments.run_sweep(part1_task4.TASK4, (variant,), (0,), context)
    assert len(first) == len(again) == 1 and first == again
    assert {"seed", "epochs", "batch_size", "test_accuracy", "train_seconds"} <= set(first[0])


def test_two_sweeps_at_once_keep_each_others_rows(context, monkeypatch):
    """A sweep writes its row into the file's current rows, not the rows it read when it
    started: another process's row recorded meanwhile survives."""
    file = part1_task4.TASK4.results_file(context.paths)
    other = {"variant": "another process", "seed": 5, "quick": True}
    real_train = experiments.train_or_reuse

    def train_while_another_sweep_writes(*args, **kwargs):
        update_results(file, "rows", read_results(file).get("rows", []) + [other])
        return real_train(*args, **kwargs)

    monkeypatch.setattr(experiments, "train_or_reuse", train_while_another_sweep_writes)
    rows = experiments.run_sweep(part1_task4.TASK4, (FINAL,), (0,), context)
    assert other in rows and other in read_results(file)["rows"]
    assert [r["variant"] for r in rows].count(FINAL.name) == 1


@pytest.mark.parametrize("experiment", [part1_task4.TASK4, part2_recipes.TASK5,
                                        part2_recipes.TASK7], ids=lambda e: e.name)
def test_recorded_rows_still_match_their_recipes(experiment):
    """A renamed model class, augmentation or loss would silently change every fingerprint
    (and retrain every sweep): each committed full-mode row still matches its recipe."""
    rows = read_results(project_root() / "results" / f"{experiment.name}_ablation.json")["rows"]
    by_name = {variant.name: variant for variant in experiment.variants}
    checked = [(row, by_name[row["variant"]]) for row in rows
               if not row.get("quick") and row["variant"] in by_name]
    assert checked, f"no committed full-mode rows of {experiment.name}"
    for row, variant in checked:
        recipe = variant.describe()
        assert row["tag"] == variant.tag, row["variant"]
        assert {k: row[k] for k in ("model", "epochs", "batch_size", "lr")} == {
            k: recipe[k] for k in ("model", "epochs", "batch_size", "lr")}, row["variant"]
