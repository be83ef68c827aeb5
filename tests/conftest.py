"""Shared test setup: 2 logical CPU devices (so MirroredStrategy really mirrors), seeds, a clean session."""

from __future__ import annotations

import os

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
    keras.backend.clear_session()


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
