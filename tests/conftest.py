"""Shared test setup: 2 logical CPU devices (so MirroredStrategy really mirrors), seeds, a clean session."""

from __future__ import annotations

import logging as std_logging
import logging.handlers
import os
import types
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import tensorflow as tf  # noqa: E402


def pytest_configure(config: pytest.Config) -> None:
    # Must run before TensorFlow initializes its devices, i.e. before any test touches a tensor.
    cpus = tf.config.list_physical_devices("CPU")
    tf.config.set_logical_device_configuration(
        cpus[0], [tf.config.LogicalDeviceConfiguration(), tf.config.LogicalDeviceConfiguration()]
    )


@pytest.fixture(autouse=True)
def _seed_and_clear():
    keras.utils.set_random_seed(0)
    yield
    # Without its full garbage collection: 0.25 s per test in a process that imported TensorFlow
    # (a search makes its own, on a frozen heap: engine.session.frozen_heap). Freezing the heap
    # once for the whole session instead was slower: what the tests leave behind piles up outside
    # the frozen part, and every collection walks it (suite 14 min 52 s against 8 min 38 s).
    keras.backend.clear_session(free_memory=False)


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """A directory holding ``series.csv`` and ``tiny.yaml`` (test_cli's tiny search on it), where the
    CLI tests run."""
    from test_cli import TINY_CONFIG, write_series_csv

    write_series_csv(tmp_path / "series.csv")
    (tmp_path / "tiny.yaml").write_text(TINY_CONFIG)
    return tmp_path


@pytest.fixture(scope="session")
def sine_windows() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Tiny windowed sine + noise: x [n, 8, 1], y [n, 1], split 240 train / rest validation."""
    rng = np.random.default_rng(0)
    series = np.sin(np.arange(330) * 0.2) + 0.05 * rng.normal(size=330)
    window = 8
    x = np.stack([series[i : i + window] for i in range(len(series) - window)])[..., None]
    y = series[window:, None]
    x, y = x.astype("float32"), y.astype("float32")
    return x[:240], y[:240], x[240:], y[240:]


TINY_YAML = """\
data:
  csv: {csv}
  target: load
  window_size: 8
  split: {{train: 0.6, validation: 0.2, test: 0.2}}
search_space:
  hidden_size: {{type: int, low: 8, high: 16, step: 8}}
  num_layers: 1
  dropout: {{type: float, low: 0.0, high: 0.2}}
  lr: {{type: float, low: 1.0e-3, high: 1.0e-2, log: true}}
  batch_size: {{type: categorical, choices: [16, 32]}}
training:
  epochs: 1
study:
  n_trials: 2
  seed: 1
export:
  enabled: false
"""


def write_tiny_run_config(tmp_path: Path, n: int = 240) -> Path:
    t = np.arange(n)
    load = 100 + 10 * np.sin(2 * np.pi * t / 24) + np.random.default_rng(0).normal(0, 1, n)
    (tmp_path / "series.csv").write_text("load\n" + "\n".join(f"{v:.4f}" for v in load) + "\n")
    path = tmp_path / "tiny.yaml"
    path.write_text(TINY_YAML.format(csv=tmp_path / "series.csv"))
    return path


@pytest.fixture(scope="session")
def finished_run(tmp_path_factory: pytest.TempPathFactory) -> types.SimpleNamespace:
    """One whole run on a tiny CSV series (2 trials, retraining of 2 epochs, plots, summary), read
    by test_plots.py (one test, so that the run happens once and not once per xdist process):
    ``root`` holds the CSV and the config, ``out`` is the run directory, ``result`` what ``run``
    returned, ``warnings`` the messages it logged at WARNING or above."""
    from lstm_tuner.config import load_config
    from lstm_tuner.job.options import RunOptions
    from lstm_tuner.job.run import run

    root = tmp_path_factory.mktemp("finished_run")
    config = load_config(
        write_tiny_run_config(root), ["training.retrain_epochs=2", "export.enabled=true"]
    )
    out = root / "runs" / "tiny"
    warnings = std_logging.handlers.BufferingHandler(capacity=100_000)
    warnings.setLevel(std_logging.WARNING)
    absl_logger = std_logging.getLogger("absl")
    absl_logger.addHandler(warnings)
    try:
        result = run(config, RunOptions(study_name="tiny", output_dir=str(out)))
    finally:
        absl_logger.removeHandler(warnings)
    messages = [record.getMessage() for record in warnings.buffer]
    return types.SimpleNamespace(root=root, out=out, result=result, name="tiny", warnings=messages)
