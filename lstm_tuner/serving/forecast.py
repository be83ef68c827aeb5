"""``lstm-tuner forecast``: an exported model and a CSV file in, forecasts in original units out.

The export's ``metadata.json`` says which columns the model reads (the target first), its window and
horizon, and how the run read its CSV file; the file is read the same way, with the same one-line
errors. The forecast is the next ``horizon`` values after the file's last row; ``--backtest`` adds the
one-step-ahead forecast of every row that has a full window before it, next to the actual value.
Times are carried over: forecast rows get the time column's values continued at the frequency the
file was read at, by calendar offsets for months, quarters and years
(:meth:`lstm_tuner.timeseries.time_index.TimeIndex.continued`); with a horizon > 1 each row also
names its origin, the last row the forecast sees. An export with prediction intervals adds
``<target>_lower_<level>`` and ``<target>_upper_<level>`` columns; an export made before intervals
existed serves its point forecasts as before.

A model with future features (``data.future_features``: columns known in advance) reads each of them
``horizon`` steps ahead of its row (:func:`lstm_tuner.timeseries.series.lead_columns`): the CSV file
holds them as observed, and ``future_path`` (``--future``) gives their values for the ``horizon``
steps after the file's last row.

In Python, :func:`load_export` gives the same forecasts, bands included, as arrays.
"""

from __future__ import annotations

import csv
import io
import json
import os
from typing import Any

import numpy as np

from lstm_tuner.errors import DataError
from lstm_tuner.timeseries.csv_file import read_series
from lstm_tuner.timeseries.intervals import band_names
from lstm_tuner.timeseries.series import lead_columns
from lstm_tuner.timeseries.time_index import TimeIndex

METADATA_FILENAME = "metadata.json"  # as lstm_tuner.serving.export writes it
_EXPORTS_OF_A_RUN = ("final", "best_trial")  # the retrained model first


def find_export(path: str) -> str:
    """The export directory of ``path``: itself, or a run directory's ``export/final`` (retrained)
    or ``export/best_trial``.

    Raises:
        DataError: no export is there.
    """
    if os.path.isfile(os.path.join(path, METADATA_FILENAME)):
        return path
    for name in _EXPORTS_OF_A_RUN:
        candidate = os.path.join(path, "export", name)
        if os.path.isfile(os.path.join(candidate, METADATA_FILENAME)):
            return candidate
    raise DataError(
        f"{path}: --model: not an export (no {METADATA_FILENAME}) and not a run directory with "
        f"export/final or export/best_trial"
    )


def read_metadata(export_dir: str) -> dict[str, Any]:
    with open(os.path.join(export_dir, METADATA_FILENAME)) as f:
        return json.load(f)


class ExportedModel:
    """An export loaded for forecasting in Python: :meth:`predict` runs ``serving_default``.

    Attributes:
        path: The export directory.
        metadata: Its ``metadata.json``.
        intervals: How its prediction intervals were calibrated (levels, method, scale,
            calibration windows, offsets), or ``None`` for an export without them.
        outputs: The signature's output names: ``prediction`` first, then each level's
            ``lower_<level>`` and ``upper_<level>``.
    """

    def __init__(self, path: str) -> None:
        import tensorflow as tf

        self.path = find_export(path)
        self.metadata = read_metadata(self.path)
        self.intervals = self.metadata.get("intervals")
        self._serve = tf.saved_model.load(self.path).signatures["serving_default"]
        levels = (self.intervals or {}).get("levels", [])
        names = [name for level in levels for name in band_names(level)]
        self.outputs = ["prediction"] + [n for n in names if n in self._serve.structured_outputs]

    def predict(self, windows: Any, batch_size: int = 1024) -> dict[str, np.ndarray]:
        """Forecasts and bands for windows ``[batch, window_size, features]`` in original units.

        The columns are ``metadata["feature_names"]``; those in ``metadata["future_features"]``
        hold, in row ``t`` of a window, their value at ``t + horizon``
        (:func:`lstm_tuner.timeseries.series.lead_columns`).

        Returns:
            Output name -> ``[batch, horizon]``, original units.
        """
        import tensorflow as tf

        windows = np.asarray(windows, dtype=np.float32)
        parts: dict[str, list[np.ndarray]] = {name: [] for name in self.outputs}
        for i in range(0, len(windows), batch_size):
            out = self._serve(window=tf.constant(windows[i : i + batch_size]))
            for name in self.outputs:
                parts[name].append(out[name].numpy())
        horizon = int(self.metadata["horizon"])
        return {
            name: np.concatenate(p) if p else np.zeros((0, horizon), np.float32)
            for name, p in parts.items()
        }


def load_export(path: str) -> ExportedModel:
    """The export at ``path`` (an export directory or a run directory), ready to forecast.

    Raises:
        DataError: no export is there.
    """
    return ExportedModel(path)


def forecast_csv(
    model_path: str, csv_path: str, *, backtest: bool = False, future_path: str | None = None
) -> str:
    """The forecasts of the model at ``model_path`` for the series in ``csv_path``, as CSV text.

    Args:
        model_path: An export directory or a run directory.
        csv_path: A CSV file with the columns the model was trained on (and the time column, if
            the run had one).
        backtest: Also forecast every row one step ahead from the window before it.
        future_path: For a model with future features: a CSV file with those columns (and the
            time column, if the run had one) whose first ``horizon`` rows are their values at the
            steps after ``csv_path``'s last row; required for such a model, refused for another.

    Returns:
        CSV text: ``kind`` (``forecast`` or ``backtest``), the time column (or ``row``: the row's
        position) holding each forecast's target time (empty after irregular timestamps, which
        have no next value), for a horizon > 1 ``origin`` (the time of the last row the forecast
        sees), ``step`` (1..h ahead of the last row; 1 for a backtest row), the target's forecast,
        with prediction intervals each level's bounds (``<target>_lower_80``,
        ``<target>_upper_80``, ...), and, for backtest rows, the actual value.

    Raises:
        DataError: bad columns, values or too few rows, in one line naming the file.
    """
    export_dir = find_export(model_path)
    meta = read_metadata(export_dir)
    data = (meta.get("config") or {}).get("data", {})
    future_names = list(meta.get("future_features") or [])
    target = meta["target_name"]
    features = meta["feature_names"][1 : len(meta["feature_names"]) - len(future_names)]
    time_column = meta.get("time_column")
    window, horizon = int(meta["window_size"]), int(meta["horizon"])
    # Every file is read as the run read its own.
    csv_format = {
        "delimiter": data.get("delimiter"),
        "decimal": data.get("decimal", "."),
        "thousands": data.get("thousands"),
    }
    series = read_series(
        csv_path,
        target,
        features,
        time_column,
        data.get("missing", "error"),
        future_features=future_names,
        **csv_format,
    )
    values, times = series.values, series.time_index
    if future_names:
        ahead = _future_rows(
            export_dir, future_path, future_names, time_column, horizon, csv_format, times
        )
        padded = np.concatenate([values, np.full((horizon, values.shape[1]), np.nan)])
        padded[len(values) :, -len(future_names) :] = ahead
        values = lead_columns(padded, len(future_names), horizon)[: len(values)]
    elif future_path is not None:
        raise DataError(
            f"{future_path}: --future: the model {export_dir} reads no future features "
            "(data.future_features was empty)"
        )
    if len(values) < window:
        raise DataError(
            f"{csv_path}: has {len(values)} rows, fewer than the model's window_size = {window}"
        )
    exported = ExportedModel(export_dir)
    bounds = exported.outputs[1:]  # lower_80, upper_80, ...

    # The file's own cells name its rows (a user joins on them); positions without a time column.
    row_times = series.times or [str(label) for label in times.labels(np.arange(len(values)))]
    with_origin = horizon > 1
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(
        ["kind", time_column or "row", *(["origin"] if with_origin else []), "step"]
        + [f"{target}_forecast", *(f"{target}_{name}" for name in bounds), target]
    )
    if backtest and len(values) > window:
        x = np.lib.stride_tricks.sliding_window_view(values[:-1], window, axis=0)
        out = exported.predict(np.ascontiguousarray(x.transpose(0, 2, 1)))
        for i, t in enumerate(range(window, len(values))):
            origin = [row_times[t - 1]] if with_origin else []
            writer.writerow(
                ["backtest", row_times[t], *origin, 1]
                + [repr(float(out[name][i, 0])) for name in exported.outputs]
                + [repr(float(series.values[t, 0]))]
            )
    last = exported.predict(values[-window:][None])
    origin = [row_times[-1]] if with_origin else []
    future = ["" if when is None else str(when) for when in times.continued(horizon)]
    for k, when in enumerate(future):
        writer.writerow(
            ["forecast", when, *origin, k + 1]
            + [repr(float(last[name][0, k])) for name in exported.outputs]
            + [""]
        )
    return buf.getvalue()


def _future_rows(
    export_dir: str,
    future_path: str | None,
    names: list[str],
    time_column: str | None,
    horizon: int,
    csv_format: dict[str, Any],
    times: TimeIndex,
) -> np.ndarray:
    """The future features' values at the ``horizon`` steps after the data, ``[horizon, len(names)]``.

    Raises:
        DataError: no file, too few rows, or (with a time column) rows that do not continue the data.
    """
    if future_path is None:
        raise DataError(
            f"{export_dir}: --future: required: the model reads {', '.join(map(repr, names))} "
            f"at the steps it forecasts; give a CSV file with their next {horizon} value(s)"
        )
    rows = read_series(
        future_path,
        names[0],
        (),
        time_column,
        "error",
        future_features=names[1:],
        target_key="data.future_features",
        **csv_format,
    )
    if len(rows.values) < horizon:
        raise DataError(
            f"{future_path}: --future: has {len(rows.values)} rows, fewer than the model's "
            f"horizon = {horizon}"
        )
    mismatch = (
        None if time_column is None else times.continuation_mismatch(rows.time_index, horizon)
    )
    if mismatch is not None:
        raise DataError(
            f"{future_path}: --future: column {time_column!r}: its first {horizon} timestamp(s) "
            f"must continue the data; expected {mismatch[0]!r}, got {mismatch[1]!r}"
        )
    return rows.values[:horizon]
