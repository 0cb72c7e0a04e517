"""Training-loop overhead (:func:`bballs.training.loop.fit` against a bare PyTorch loop) and the
baseline U-Net's training step against the machine's practical limit (a large matrix multiply)."""

from __future__ import annotations

import tempfile
import time
from dataclasses import replace
from pathlib import Path

import torch
from torch import nn

from bballs.core.files import shown, update_results
from bballs.core.machine import describe_machine
from bballs.core.parameters import counted_flops
from bballs.models.spec import UNet
from bballs.tasks.prediction import SPEC_RECIPE, PredictionData, load_prediction_data
from bballs.training.loop import Supervised, fit, pick_device, seed_everything


def spec_unet(device: str | torch.device) -> nn.Module:
    """The baseline U-Net on ``device`` in the memory layout it trains in
    (:func:`~bballs.tasks.prediction.train_predictor`: channels last)."""
    return UNet().to(device, memory_format=torch.channels_last)


def bare_epoch(model: nn.Module, x: torch.Tensor, y: torch.Tensor, batch_size: int,
               x_val: torch.Tensor | None = None) -> None:
    """Forward, backward and Adam step over preloaded tensors in order, then (if ``x_val`` is
    given) one no-grad forward pass over the validation inputs; nothing else."""
    optimizer = torch.optim.Adam(model.parameters())
    loss_fn = nn.MSELoss()
    model.train()
    for start in range(0, len(x), batch_size):
        loss = loss_fn(model(x[start:start + batch_size]), y[start:start + batch_size])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    if x_val is not None:
        model.eval()
        with torch.no_grad():
            for start in range(0, len(x_val), 512):
                model(x_val[start:start + 512])


def training_step_flops(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> int:
    """Floating-point operations of one forward and backward pass on the batch (x, y), as
    PyTorch's FLOP counter counts them (:func:`~bballs.core.parameters.counted_flops`)."""
    flops = counted_flops(lambda: nn.functional.mse_loss(model(x), y).backward())
    model.zero_grad(set_to_none=True)
    return flops


def matmul_gflops(size: int = 2048, repeats: int = 10, device: str | torch.device = "cpu"
                  ) -> float:
    """GFLOP/s of a ``size`` x ``size`` float32 matrix multiply, the best of ``repeats``: the
    machine's practical limit for dense arithmetic with the threads torch uses."""
    a, b = (torch.randn(size, size, device=device) for _ in range(2))
    a @ b  # warm-up
    best = min(_timed(lambda: a @ b) for _ in range(repeats))
    return 2 * size ** 3 / best / 1e9


def gflops_by_batch(x: torch.Tensor, y: torch.Tensor, batch_sizes=(4, 16, 64),
                    samples: int = 512) -> dict[str, float]:
    """GFLOP/s of the baseline U-Net's bare training steps at each of ``batch_sizes`` (the
    first ``samples`` sequences of (x, y) after one warm-up batch): how much of the gap to the
    matrix-multiply limit is the batch size. Keys are the batch sizes as text; a batch size
    larger than half of x is left out."""
    achieved = {}
    for batch_size in batch_sizes:
        n = min(max(samples, 2 * batch_size), len(x)) // batch_size * batch_size
        if n < 2 * batch_size:
            continue
        seed_everything(0)
        model = spec_unet(x.device)
        flops = training_step_flops(model, x[:batch_size], y[:batch_size])
        bare_epoch(model, x[:batch_size], y[:batch_size], batch_size)  # warm-up
        seconds = _timed(lambda m=model, k=n, b=batch_size: bare_epoch(m, x[:k], y[:k], b))
        achieved[str(batch_size)] = flops * (n // batch_size) / seconds / 1e9
    return achieved


FORWARD_SAMPLES = 512  # sequences in the large-batch forward pass of seconds_by_threads


def seconds_by_threads(x: torch.Tensor, y: torch.Tensor, batch_size: int = 4,
                       samples: int = FORWARD_SAMPLES) -> dict[str, dict[str, float]]:
    """Seconds of the baseline U-Net's bare training step (``"step"``, at ``batch_size``) and of
    its forward pass over the first ``samples`` sequences at once (``"forward"``), at one thread
    and at every thread torch has (inner keys: the thread counts as text): what a second thread
    buys small-batch and large-batch work (``reproduce --jobs`` trades it for a second notebook)."""
    threads = torch.get_num_threads()
    n = min(samples, len(x)) // batch_size * batch_size
    timed: dict[str, dict[str, float]] = {"step": {}, "forward": {}}
    try:
        for count in sorted({1, threads}):
            torch.set_num_threads(count)
            seed_everything(0)
            model = spec_unet(x.device)
            bare_epoch(model, x[:batch_size], y[:batch_size], batch_size)  # warm-up
            seconds = _timed(lambda m=model: bare_epoch(m, x[:n], y[:n], batch_size))
            timed["step"][str(count)] = seconds / (n // batch_size)
            with torch.no_grad():
                model.eval()
                model(x[:n])  # warm-up
                timed["forward"][str(count)] = _timed(lambda m=model: m(x[:n]))
    finally:
        torch.set_num_threads(threads)
    return timed


def _timed(action) -> float:
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    started = time.perf_counter()
    action()
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    return time.perf_counter() - started


def benchmark(data: PredictionData, repeats: int = 1, device: str | None = None) -> dict:
    """Seconds for one epoch of ``fit`` (with validation and checkpoint) and of the bare loop."""
    device = pick_device(device)
    config = replace(SPEC_RECIPE.for_run(0), epochs=1)
    x, y = (t.to(device) for t in data.train)
    x_val = data.x_val.to(device)
    bare_epoch(spec_unet(device), x[:64], y[:64], config.batch_size, x_val[:64])  # warm-up
    folder = tempfile.TemporaryDirectory()
    runs = {  # each gets a freshly seeded U-Net; fit() a new checkpoint path, so nothing is reused
        "fit": lambda model, k: fit(model, data.train, data.val, Supervised(nn.MSELoss()), config,
                                    checkpoint=Path(folder.name) / f"bench{k}.pt", device=device,
                                    desc="fit"),
        "bare": lambda model, k: bare_epoch(model, x, y, config.batch_size, x_val),
        "bare_train_only": lambda model, k: bare_epoch(model, x, y, config.batch_size),
    }
    timings = {name: [] for name in runs}
    with folder:
        for repeat in range(repeats):
            for name, run_once in runs.items():
                seed_everything(0)
                model = spec_unet(device)
                timings[name].append(_timed(lambda: run_once(model, repeat)))  # noqa: B023
    fit_s, bare_s = min(timings["fit"]), min(timings["bare"])
    n = len(x)
    step_flops = training_step_flops(spec_unet(device), x[:config.batch_size],
                                     y[:config.batch_size])
    steps = -(-n // config.batch_size)
    achieved = step_flops * steps / min(timings["bare_train_only"]) / 1e9
    limit = matmul_gflops(device=device)
    by_batch = gflops_by_batch(x, y)
    by_threads = seconds_by_threads(x, y, config.batch_size) if device.type == "cpu" else {}
    return {"seconds_by_threads": by_threads,
            "threads": torch.get_num_threads(), "step_gflop": step_flops / 1e9,
            "achieved_gflops": achieved, "matmul_gflops": limit, "share_of_limit": achieved / limit,
            "device": str(device), "samples": n, "batch_size": config.batch_size,
            "fit_seconds": fit_s, "bare_seconds": bare_s, "overhead": fit_s / bare_s - 1,
            "fit_samples_per_s": n / fit_s, "bare_samples_per_s": n / bare_s,
            "bare_train_only_seconds": min(timings["bare_train_only"]),
            "validation_samples": len(data.x_val), "gflops_by_batch": by_batch,
            "share_of_limit_by_batch": {k: v / limit for k, v in by_batch.items()}}


def run(data_dir: str | Path, samples: int | None = None, repeats: int = 1,
        results_file: str | Path | None = None) -> dict:
    """Benchmark on the Part 2 training set (optionally its first ``samples`` sequences); the
    result, with the machine and the date, is written to ``results_file`` if given."""
    data = load_prediction_data(data_dir)
    if samples:
        data = PredictionData(data.x_train[:samples], data.y_train[:samples], data.x_val,
                              data.y_val)
    result = benchmark(data, repeats)
    print(f"device {result['device']}, {result['samples']} training sequences, "
          f"batch size {result['batch_size']}, best of {repeats}")
    print(f"  bare loop, training steps only  : {result['bare_train_only_seconds']:8.2f} s")
    print(f"  bare loop + validation forward  : {result['bare_seconds']:8.2f} s  "
          f"{result['bare_samples_per_s']:8.1f} samples/s")
    print(f"  fit() (+ history, tqdm, ckpt)   : {result['fit_seconds']:8.2f} s  "
          f"{result['fit_samples_per_s']:8.1f} samples/s  "
          f"(validation on {result['validation_samples']} sequences)")
    print(f"  ratio fit/bare = {result['fit_seconds'] / result['bare_seconds']:.3f} "
          f"(overhead {result['overhead']:+.1%})")
    print(f"  baseline U-Net training step: {result['step_gflop']:.3f} GFLOP per batch of "
          f"{result['batch_size']}, {result['achieved_gflops']:.1f} GFLOP/s achieved against "
          f"{result['matmul_gflops']:.1f} GFLOP/s for a 2048x2048 matrix multiply "
          f"({result['share_of_limit']:.0%} of the limit, {result['threads']} threads)")
    print("  the same step at batch " + ", ".join(
        f"{size}: {gflops:.1f} GFLOP/s ({result['share_of_limit_by_batch'][size]:.0%})"
        for size, gflops in result["gflops_by_batch"].items()))
    by_threads, threads = result["seconds_by_threads"], str(result["threads"])
    if by_threads and threads != "1":
        forward = min(FORWARD_SAMPLES, result["samples"])
        for kind, what in (("step", f"training step at batch {result['batch_size']}"),
                           ("forward", f"forward pass over {forward} sequences")):
            one, all_ = by_threads[kind]["1"], by_threads[kind][threads]
            print(f"  {what}: {one * 1e3:.1f} ms at 1 thread, {all_ * 1e3:.1f} ms at {threads} "
                  f"threads ({one / all_:.2f}x faster)")
    if results_file is not None:
        update_results(results_file, "loop", {**result, "repeats": repeats,
                                              "date": time.strftime("%Y-%m-%d"),
                                              "machine": describe_machine()})
        print(f"wrote {shown(results_file)}")
    return result
