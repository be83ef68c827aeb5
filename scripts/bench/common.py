"""What every benchmark section shares: the modes, the machine's description, series, spaces, timers."""

from __future__ import annotations

import datetime
import os
import platform
import statistics
import time
from collections.abc import Sequence
from typing import Any

#: Settings of every mode; ``smoke`` and ``quick`` override some of them (``full`` is the base).
BASE_MODE: dict[str, Any] = dict(
    overhead_repeats=7,
    overhead_epochs=5,
    steps_per_execution=8,
    batch_sizes=[32, 64, 128],
    overhead_points=4000,
    pipeline_points=5_000_000,
    pipeline_window=100,
    pipeline_batches=10000,
    search_points=4000,
    window_size=30,
    n_trials=10,
    epochs=5,
    seeds=5,
    space="spec",
    methods=["default", "random", "median", "hyperband", "kt_random", "kt_bayes"],
    forecast_series=[
        "co2_mauna_loa",
        "us_electricity",
        "air_passengers",
        "taylor_electricity",
        "sunspots_monthly",
        "google_stock",
        "nile",
    ],
    forecast_seeds=3,
    forecast_transforms=["level", "delta", "seasonal_delta"],
    retrain_epochs=50,
    patience=10,
    reevaluate_top_k=3,
    reevaluate_seeds=3,
    storage_workers=[1, 8, 32],
    storage_seconds=30.0,
    storage_epoch_s=0.2,
)
MODE_OVERRIDES: dict[str, dict[str, Any]] = {
    "full": {},
    "quick": dict(
        overhead_repeats=3,
        overhead_epochs=3,
        overhead_points=1500,
        pipeline_batches=3000,
        search_points=800,
        seeds=3,
        space="narrow",
        methods=["default", "random", "median", "kt_random"],
        forecast_series=[
            "co2_mauna_loa",
            "us_electricity",
            "air_passengers",
            "sunspots_monthly",
            "google_stock",
            "nile",
        ],
        storage_workers=[1, 4, 16],
        storage_seconds=20.0,
    ),
    "smoke": dict(
        overhead_repeats=1,
        overhead_epochs=2,
        batch_sizes=[64],
        overhead_points=400,
        pipeline_points=200_000,
        pipeline_batches=200,
        search_points=400,
        window_size=8,
        n_trials=1,
        epochs=1,
        seeds=1,
        space="tiny",
        methods=["default", "random", "median", "kt_random"],
        forecast_series=["nile"],
        forecast_seeds=1,
        retrain_epochs=2,
        patience=1,
        reevaluate_top_k=1,
        storage_workers=[1, 2],
        storage_seconds=4.0,
    ),
}


def mode_settings(mode: str) -> dict[str, Any]:
    """The settings of a mode: the base with the mode's overrides."""
    return {**BASE_MODE, **MODE_OVERRIDES[mode]}


def rss_mb() -> float:
    """Resident set size of this process, in MB (Linux /proc; 0 elsewhere)."""
    return _proc_status_mb("VmRSS")


def _proc_status_mb(key: str) -> float:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def median(values: Sequence[float]) -> float | None:
    return float(statistics.median(values)) if values else None


def describe_environment(mode: str, settings: dict[str, Any]) -> dict[str, Any]:
    import keras
    import optuna
    import tensorflow as tf

    cpu = platform.processor() or "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    mem_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1024**3
    try:
        import keras_tuner

        kt_version = keras_tuner.__version__
    except ImportError:
        kt_version = None
    return {
        "date": datetime.date.today().isoformat(),
        "measured_at": datetime.datetime.now().isoformat(timespec="seconds"),
        "mode": mode,
        "settings": settings,
        "cpu": cpu,
        "cpu_count": os.cpu_count(),
        "gpus": len(tf.config.list_physical_devices("GPU")),
        "memory_gb": round(mem_gb, 1),
        "python": platform.python_version(),
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "optuna": optuna.__version__,
        "keras_tuner": kt_version,
    }


def make_space(kind: str) -> tuple[Any, ...]:
    from lstm_tuner.engine.search_space import ParamSpec
    from lstm_tuner.lstm.space import DEFAULT_SEARCH_SPACE

    if kind == "spec":
        return DEFAULT_SEARCH_SPACE
    if (
        kind == "narrow"
    ):  # the spec's space with hidden sizes / 4: the same shape, 1/16 of the compute
        return tuple(
            ParamSpec("hidden_size", "int", 16, 64, step=16) if spec.name == "hidden_size" else spec
            for spec in DEFAULT_SEARCH_SPACE
        )
    return (
        ParamSpec("hidden_size", "int", 8, 16, step=8),
        ParamSpec("num_layers", "int", 1, 2),
        ParamSpec("dropout", "float", 0.0, 0.2),
        ParamSpec("lr", "float", 1e-3, 1e-2, log=True),
        ParamSpec("batch_size", "categorical", choices=(32, 64)),
    )


def fixed_space(values: dict[str, Any]) -> tuple[Any, ...]:
    from lstm_tuner.engine.search_space import ParamSpec

    return tuple(ParamSpec(name, "fixed", value=value) for name, value in values.items())


def load_series(
    num_points: int, window_size: int, csv: str | None = None, target: str | None = None
):
    from lstm_tuner.config.schema import BuiltinConfig, DataConfig
    from lstm_tuner.timeseries.series import load_data

    if csv:
        return load_data(
            DataConfig(source="csv", csv=csv, target=target or "value", window_size=window_size)
        )
    return load_data(
        DataConfig(builtin=BuiltinConfig(num_points=num_points), window_size=window_size)
    )


class _Shared(list):
    """A list that deep copies of its holder share (the tuner deep-copies the callbacks)."""

    def __deepcopy__(self, memo: dict[int, Any]) -> _Shared:
        return self


def make_epoch_timer() -> Any:
    """A Keras callback recording each epoch's duration in ``epoch_s`` (kept by the tuner's deep copy)."""
    import keras

    class _Timer(keras.callbacks.Callback):
        def __init__(self) -> None:
            super().__init__()
            self.epoch_s: list[float] = _Shared()
            self._start = 0.0

        def on_epoch_begin(self, epoch: int, logs: Any = None) -> None:
            self._start = time.perf_counter()

        def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
            self.epoch_s.append(time.perf_counter() - self._start)

    return _Timer()
