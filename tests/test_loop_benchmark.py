"""The training loop's benchmark (``bballs.tasks.loop_benchmark``)."""

from __future__ import annotations


def test_bench_reports_both_loops(dataset_dir, capsys, tmp_path):
    from bballs.core.files import read_results
    from bballs.tasks import loop_benchmark

    result = loop_benchmark.run(dataset_dir, samples=8, results_file=tmp_path / "bench.json")
    recorded = read_results(tmp_path / "bench.json")["loop"]
    assert recorded["samples"] == 8 and recorded["machine"]["cores"] >= 1 and recorded["date"]
    assert result["samples"] == 8 and result["fit_seconds"] > 0 and result["bare_seconds"] > 0
    out = capsys.readouterr().out
    assert "ratio fit/bare" in out and "GFLOP/s achieved" in out
    assert result["achieved_gflops"] > 0 and 0 < result["share_of_limit"] < 2
    assert result["step_gflop"] > 0.01  # the U-Net's forward + backward on one batch of 4


def test_gflops_by_batch_times_each_batch_size_that_fits(dataset_dir):
    from bballs.tasks import loop_benchmark
    from bballs.tasks.prediction import load_prediction_data

    x, y = load_prediction_data(dataset_dir).train
    achieved = loop_benchmark.gflops_by_batch(x[:16], y[:16], batch_sizes=(2, 8, 16), samples=8)
    assert set(achieved) == {"2", "8"}  # 16 sequences hold two batches of 8, not of 16
    assert all(value > 0 for value in achieved.values())


def test_times_at_one_thread_and_at_every_thread_leave_the_count_as_it_was(dataset_dir):
    import torch

    from bballs.tasks import loop_benchmark
    from bballs.tasks.prediction import load_prediction_data

    x, y = load_prediction_data(dataset_dir).train
    threads = torch.get_num_threads()
    timed = loop_benchmark.seconds_by_threads(x[:16], y[:16], samples=8)
    assert set(timed) == {"step", "forward"}
    for seconds in timed.values():
        assert set(seconds) == {"1", str(threads)} and all(s > 0 for s in seconds.values())
    assert torch.get_num_threads() == threads
