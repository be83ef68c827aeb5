"""Several worker processes on one study, on one machine: starting them, one GPU each, waiting.

The caller creates (or overwrites) the study first, so that workers only ever load it, and builds each
worker's command line; nothing here knows what a worker runs.
"""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Callable, Sequence

from absl import logging


def visible_gpus() -> list[str]:
    """The GPU ids a worker may be given: ``CUDA_VISIBLE_DEVICES`` if set, else every GPU found.

    Lists the physical devices only, which neither starts TensorFlow's runtime nor reserves GPU memory.
    """
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible is not None:
        return [g.strip() for g in visible.split(",") if g.strip()]
    import tensorflow as tf

    return [str(i) for i in range(len(tf.config.list_physical_devices("GPU")))]


def run_workers(
    command: Callable[[int], Sequence[str]],
    num_workers: int,
    gpu_ids: Sequence[str] = (),
    cwd: str | None = None,
) -> list[int]:
    """Starts ``num_workers`` processes and waits for them.

    Args:
        command: The command line of worker ``k`` (1, 2, ...).
        num_workers: How many.
        gpu_ids: GPUs to share out round robin, one per worker (``CUDA_VISIBLE_DEVICES``); none on a
            CPU-only machine.
        cwd: The workers' working directory (default this process's).

    Returns:
        The non-zero exit codes of the workers that failed (empty when all succeeded).

    Raises:
        KeyboardInterrupt: after passing SIGTERM on to the workers and waiting for them.
    """
    procs = []
    for index in range(1, num_workers + 1):
        env = dict(os.environ)
        if gpu_ids:
            env["CUDA_VISIBLE_DEVICES"] = gpu_ids[(index - 1) % len(gpu_ids)]
        procs.append(subprocess.Popen(list(command(index)), env=env, cwd=cwd))
    logging.info(
        "Started %d workers (pids %s)%s",
        num_workers,
        [p.pid for p in procs],
        f" on GPUs {list(gpu_ids)}" if gpu_ids else " sharing the CPU",
    )
    try:
        codes = [p.wait() for p in procs]
    except KeyboardInterrupt:
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in procs:
            p.wait()
        raise
    return [c for c in codes if c != 0]
