"""Input pipeline: windows/s of the training pipeline and its peak memory for a long series."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from typing import Any

from bench.common import _proc_status_mb, rss_mb


def pipeline_child(kind: str, num_points: int, window_size: int) -> dict[str, Any]:
    """Builds one pipeline for a long series and reports its peak memory above the raw series."""
    import numpy as np
    import tensorflow as tf

    from lstm_tuner.timeseries.windows import Windows, make_dataset

    series = np.random.default_rng(0).standard_normal((num_points, 1)).astype(np.float32)
    tf.constant(0.0)  # TF initialized before the baseline
    try:  # reset the peak (VmHWM) to the current RSS, so that TF's import peak does not count
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        peak_reset = True
    except OSError:
        peak_reset = False
    base = rss_mb()
    start = time.perf_counter()
    windows = Windows(series, window_size)
    del series  # the caller's copy: Windows keeps its own
    if kind == "gather":
        ds = windows.to_dataset(batch_size=64, shuffle=True, seed=0)
    else:
        x, y = windows.arrays()
        del windows
        # No shuffle buffer here: Dataset.shuffle(num_windows) would add ~190 bytes per window.
        ds = make_dataset(x, y, batch_size=64, training=False)
        del x, y
    for _ in ds.take(10):
        pass
    build_s = time.perf_counter() - start
    raw_mb = num_points * 4 / 1024**2
    peak = _proc_status_mb("VmHWM")
    return {
        "kind": kind,
        "num_points": num_points,
        "window_size": window_size,
        "raw_series_mb": raw_mb,
        "peak_above_baseline_mb": peak - base if peak_reset else None,
        "peak_over_raw": (peak - base) / raw_mb if peak_reset else None,
        "build_s": build_s,
    }


def throughput(ds: Any, max_batches: int) -> float:
    """Windows per second delivered by a dataset (after one warm-up batch)."""
    it = iter(ds)
    next(it)
    count = 0
    start = time.perf_counter()
    for _ in range(max_batches):
        try:
            x, _y = next(it)
        except StopIteration:
            break
        count += int(x.shape[0])
    return count / (time.perf_counter() - start)


def bench_pipeline(settings: dict[str, Any]) -> dict[str, Any]:
    import numpy as np

    from lstm_tuner.timeseries.windows import Windows, make_dataset

    num_points, window = settings["pipeline_points"], settings["pipeline_window"]
    # Throughput on a series of 200k points (the pipeline's speed does not depend on its length).
    series = np.random.default_rng(0).standard_normal((200_000, 1))
    windows = Windows(series, window)
    rates: dict[str, Any] = {}
    for batch in (64, 256):
        ds = windows.to_dataset(batch_size=batch, shuffle=True, seed=0)
        rates[f"gather_batch{batch}_windows_per_s"] = throughput(ds, settings["pipeline_batches"])
    x, y = windows.arrays()
    for batch in (64, 256):
        ds = make_dataset(x, y, batch_size=batch, training=True, seed=0)
        rates[f"materialized_batch{batch}_windows_per_s"] = throughput(
            ds, settings["pipeline_batches"]
        )
    del x, y, windows
    memory = {}
    for kind in ("gather", "materialized"):
        out = subprocess.run(
            [
                sys.executable,
                os.path.join(
                    os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "benchmark.py"
                ),
                f"--pipeline_child={kind}",
                f"--pipeline_points={num_points}",
                f"--pipeline_window={window}",
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        memory[kind] = json.loads(out.stdout.strip().splitlines()[-1])
    return {
        "throughput_series_points": 200_000,
        "throughput_window_size": window,
        **rates,
        "memory": memory,
        "note": "materialized: Windows.arrays() + from_tensor_slices + shuffle(buffer=all windows)"
        " for the throughput; no shuffle buffer for the memory (it would add ~190 B per window)",
    }
