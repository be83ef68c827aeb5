"""The run's files: written so that a reader never sees half of one (temporary file, then rename),
archived for the artifact store, and a KerasTuner project directory told apart from ours."""

from __future__ import annotations

import json
import os
from typing import Any

import numpy as np


def write_text_atomic(path: str | os.PathLike, text: str) -> None:
    """Writes a file through a temporary file and a rename, so readers never see half of it."""
    path = os.fspath(path)
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    tmp = f"{path}.tmp-{os.getpid()}"
    try:
        with open(tmp, "w") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def write_json_atomic(path: str | os.PathLike, payload: Any) -> None:
    """Writes JSON atomically (see :func:`write_text_atomic`)."""
    write_text_atomic(path, json.dumps(payload, indent=2, default=_json_default) + "\n")


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def archive_dir(directory: str, path: str) -> str:
    """Packs ``directory`` into the gzipped tar ``path`` (one file, for an artifact store), with
    fixed times and owners so that the same files give the same bytes."""
    import gzip
    import tarfile

    def normalized(info: tarfile.TarInfo) -> tarfile.TarInfo:
        info.mtime, info.uid, info.gid, info.uname, info.gname = 0, 0, 0, "", ""
        return info

    with open(path, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as zipped:
        with tarfile.open(fileobj=zipped, mode="w") as tar:
            for root, dirs, files in os.walk(directory):
                dirs.sort()
                for name in sorted(files):
                    full = os.path.join(root, name)
                    tar.add(
                        full, os.path.relpath(full, os.path.dirname(directory)), filter=normalized
                    )
    return path


def refuse_kerastuner_project(project_dir: str, storage: Any) -> None:
    """A KerasTuner project directory (its ``oracle.json``) is not ours to read: say so.

    Raises:
        ValueError: ``project_dir`` holds KerasTuner's state and no lstm_tuner study.
    """
    ours = storage is not None or os.path.exists(os.path.join(project_dir, "study.db"))
    if not ours and os.path.exists(os.path.join(project_dir, "oracle.json")):
        raise ValueError(
            f"{project_dir} is a KerasTuner project (oracle.json): lstm_tuner keeps its trials in "
            "an Optuna storage and cannot read or resume it; use another directory or project_name"
        )
