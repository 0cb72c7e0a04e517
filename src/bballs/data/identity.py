"""Which data a result came from: content digests of arrays and of the dataset files, and
whether the files on disk are the ones ``python -m bballs data`` generated or the user's own.

Every checkpoint fingerprint holds the digest of the training arrays it saw, and every results
file records :func:`data_source`, so nothing computed on one dataset is reused or reported for
another.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch

from bballs.core.files import atomic_path
from bballs.data.dataset import DEFAULT_FILES, load_npz

DIGEST_CHARS = 12
GENERATED_RECORD = "generated.json"  # written beside the files by generate_dataset


def array_digest(*arrays: np.ndarray | torch.Tensor) -> str:
    """A short digest of the content, dtype and shape of ``arrays`` (NumPy or torch, any
    device): equal digests mean equal data."""
    digest = hashlib.blake2b(digest_size=16)
    for array in arrays:
        if isinstance(array, torch.Tensor):
            array = array.detach().cpu().numpy()
        array = np.ascontiguousarray(array)
        digest.update(f"{array.dtype.str}{array.shape}".encode())
        digest.update(array.data)
    return digest.hexdigest()[:DIGEST_CHARS]


def file_digest(path: str | Path) -> str:
    """The digest of a dataset file's frames and labels as :func:`load_npz` reads them (the
    archive's own bytes carry time stamps, so equal data can have different bytes)."""
    path = Path(path)
    stat = path.stat()
    return _cached_file_digest(str(path.resolve()), stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=16)
def _cached_file_digest(path: str, mtime_ns: int, size: int) -> str:
    return array_digest(*load_npz(path))


def record_generated(folder: str | Path, names: list[str], seed: int) -> None:
    """Note in ``folder/generated.json`` that the files ``names`` were generated with ``seed``
    (with their digests, so a file replaced later is no longer taken for ours)."""
    path = Path(folder) / GENERATED_RECORD
    record = _read_record(path)
    record.update({name: {"seed": seed, "digest": file_digest(Path(folder) / name)}
                   for name in names})
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(record, indent=1, sort_keys=True) + "\n")


def _read_record(path: Path) -> dict:
    try:
        record = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return record if isinstance(record, dict) else {}


def data_source(data_dir: str | Path, names: Sequence[str] | None = None) -> dict:
    """The dataset files of ``data_dir`` (only ``names``, the files a notebook uses, if given)
    with their digests and origin, and one digest of them all (``digest``), as results files
    record them; a file that is not there (an assignment that uses only some of the files
    generates only those) is left out."""
    data_dir = Path(data_dir)
    record = _read_record(data_dir / GENERATED_RECORD)
    files = {}
    for spec in DEFAULT_FILES:
        if not (data_dir / spec.name).is_file() or (names is not None and spec.name not in names):
            continue
        digest = file_digest(data_dir / spec.name)
        mine = record.get(spec.name, {})
        origin = (f"generated with seed {mine.get('seed')}" if mine.get("digest") == digest
                  else "provided by the user")
        files[spec.name] = {"digest": digest, "origin": origin}
    origins = sorted({entry["origin"] for entry in files.values()})
    combined = hashlib.blake2b("".join(f["digest"] for f in files.values()).encode(),
                               digest_size=16).hexdigest()[:DIGEST_CHARS]
    return {"digest": combined, "origin": " / ".join(origins), "files": files}


def section_sources(results: dict) -> dict[str, dict]:
    """The data source each section of a results file records for itself, by section key
    (sections without their own record are left out)."""
    return {key: value["data_source"] for key, value in results.items()
            if isinstance(value, dict) and isinstance(value.get("data_source"), dict)}


def describe_source(source: dict) -> str:
    """One line for a report's title block: origin and digests of the data ("fingerprint": the
    first digits of the digest of a file's frames and labels)."""
    files = ", ".join(f"{name} (fingerprint {entry['digest'][:8]})"
                      for name, entry in source.get("files", {}).items())
    return f"Data: {source.get('origin', 'unknown origin')}; {files}"
