"""The machine a notebook ran on, recorded beside its results so that every time in a report
says where it was measured."""

from __future__ import annotations

import os
import platform
import re
from pathlib import Path

AT_ONCE_VARIABLE = "BBALLS_NOTEBOOKS_AT_ONCE"  # set by `reproduce` for notebooks side by side


def cpu_name() -> str:
    """The processor's model name (Linux), else what :mod:`platform` knows."""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        for line in cpuinfo.read_text(errors="replace").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def describe_machine() -> dict:
    """Processor, cores, torch threads, accelerator and library versions."""
    import torch

    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    return {"cpu": cpu_name(), "cores": os.cpu_count(), "torch_threads": torch.get_num_threads(),
            "notebooks_at_once": int(os.environ.get(AT_ONCE_VARIABLE) or 1),
            "gpu": gpu, "torch": torch.__version__, "python": platform.python_version()}


def plain_cpu(name: str) -> str:
    """A processor's model name without trademarks, clock or generic words ("Intel Xeon")."""
    name = re.sub(r"\((?:R|TM|tm|r)\)|@.*$|\b(?:CPU|Processor)\b", " ", name)
    return " ".join(name.split()) or "unnamed"


def machine_line(machine: dict) -> str:
    """One sentence-part naming the machine of :func:`describe_machine`, in plain words."""
    device = f"an {machine['gpu']} GPU" if machine.get("gpu") else "no GPU"
    threads = machine["torch_threads"]
    at_once = machine.get("notebooks_at_once", 1)
    beside = f" (one of {at_once} notebooks running side by side)" if at_once > 1 else ""
    torch_version = ".".join(str(machine["torch"]).split("+")[0].split(".")[:2])
    return (f"{machine['cores']} CPU cores ({plain_cpu(machine['cpu'])}), {threads} "
            f"PyTorch thread{'' if threads == 1 else 's'}{beside}, {device}; "
            f"PyTorch {torch_version}")
