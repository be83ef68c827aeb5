"""The series' own time axis: inferred frequency, calendar continuation, and the dates in the plots,
summary.md, evaluation.json and the forecast CSV (expectations computed here from the CSV text)."""

from __future__ import annotations

import csv
import datetime
import json
import re
import types
from pathlib import Path

import keras
import numpy as np
import optuna
import pytest

from lstm_tuner.config.schema import config_from_dict
from lstm_tuner.job.run import run_info
from lstm_tuner.job.verdict import evaluate_on_test, verdict
from lstm_tuner.reporting import model_plots
from lstm_tuner.reporting.summary import summary_markdown
from lstm_tuner.timeseries.series import load_data
from lstm_tuner.timeseries.time_index import TimeIndex

WINDOW = 8
NUM_MONTHS = 108  # 2011-03 .. 2020-02: the 2020-02-01 is the last row


def add_months(day: datetime.date, months: int) -> datetime.date:
    """The first of the month ``months`` after ``day``'s, by hand."""
    index = day.year * 12 + day.month - 1 + months
    return datetime.date(index // 12, index % 12 + 1, 1)


def write_series(path: Path, *, with_month: bool) -> Path:
    """A noisy seasonal series; with ``month``, its rows are written in a shuffled order."""
    rng = np.random.default_rng(3)
    t = np.arange(NUM_MONTHS)
    y = 10 + 0.05 * t + np.sin(2 * np.pi * t / 12) + 0.2 * rng.standard_normal(NUM_MONTHS)
    rows = [
        [add_months(datetime.date(2011, 3, 1), int(i)).isoformat(), f"{v:.4f}"]
        for i, v in zip(t, y, strict=True)
    ]
    if with_month:
        rows = [rows[i] for i in rng.permutation(NUM_MONTHS)]
        text = "month,y\n" + "".join(f"{m},{v}\n" for m, v in rows)
    else:
        text = "y\n" + "".join(f"{v}\n" for _, v in rows)
    path.write_text(text)
    return path


def csv_months(path: Path) -> list[str]:
    """The file's months, sorted (ISO dates sort as text)."""
    with open(path) as f:
        return sorted(row["month"] for row in csv.DictReader(f))


def split_ends(n: int) -> tuple[int, int]:
    return round(n * 0.6), round(n * 0.8)


def config_for(path: Path, *, time_column: str | None, horizon: int = 1):
    data = {
        "csv": str(path),
        "target": "y",
        "window_size": WINDOW,
        "horizon": horizon,
        "split": {"train": 0.6, "validation": 0.2, "test": 0.2},
    }
    if time_column:
        data["time_column"] = time_column
    return config_from_dict({"data": data, "evaluation": {"statistical_models": []}})


def tiny_model(horizon: int) -> keras.Model:
    return keras.Sequential(
        [keras.Input((WINDOW, 1)), keras.layers.LSTM(8), keras.layers.Dense(horizon)]
    )


def evaluation_of(path: Path, *, time_column: str | None, horizon: int = 1):
    config = config_for(path, time_column=time_column, horizon=horizon)
    data = load_data(config.data)
    test = evaluate_on_test({"best_trial": tiny_model(horizon)}, data, config)
    # as the run writes it and a user reads it
    test = json.loads(json.dumps(test))
    return config, data, {"verdict": verdict(test), "test": test, "retraining": None}


def drawn_figure(evaluation, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """The test-predictions figure that write_forecast_plots draws, kept before it is saved."""
    figures = []
    real_save = model_plots.save

    def keep(fig, path, **kwargs):
        figures.append(fig)
        return real_save(fig, path, **kwargs)

    monkeypatch.setattr(model_plots, "save", keep)
    written = model_plots.write_forecast_plots(evaluation, str(tmp_path / "plots"))
    assert [Path(p).name for p in written][0] == "test_predictions.png"
    return figures[0], written


# -- the index ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("stamps", "frequency", "next_two"),
    [
        (["2019-12-01", "2020-01-01", "2020-02-01"], "monthly", ["2020-03-01", "2020-04-01"]),
        (["2019-11-30", "2019-12-31", "2020-01-31"], "monthly", ["2020-02-29", "2020-03-31"]),
        (["2019-11-15", "2019-12-15", "2020-01-15"], "monthly", ["2020-02-15", "2020-03-15"]),
        (["2019-07-01", "2019-10-01", "2020-01-01"], "quarterly", ["2020-04-01", "2020-07-01"]),
        (["2018-01-01", "2019-01-01", "2020-01-01"], "yearly", ["2021-01-01", "2022-01-01"]),
        (["2020-01-06", "2020-01-13", "2020-01-20"], "weekly", ["2020-01-27", "2020-02-03"]),
        (["2020-02-27", "2020-02-28", "2020-02-29"], "daily", ["2020-03-01", "2020-03-02"]),
        (
            ["2020-01-01T22:00:00", "2020-01-01T23:00:00", "2020-01-02T00:00:00"],
            "hourly",
            ["2020-01-02T01:00:00", "2020-01-02T02:00:00"],
        ),
        (
            ["2020-01-01T23:00:00", "2020-01-01T23:30:00", "2020-01-02T00:00:00"],
            "half-hourly",
            ["2020-01-02T00:30:00", "2020-01-02T01:00:00"],
        ),
        (["2020-01-01", "2020-01-02", "2020-01-05"], "irregular", [None, None]),
    ],
)
def test_frequency_is_inferred_and_continued_by_the_calendar(stamps, frequency, next_two):
    index = TimeIndex.from_values("t", [datetime.datetime.fromisoformat(s) for s in stamps])
    assert index.frequency == frequency
    assert index.continued(2) == next_two
    assert index.labels([0, 2]) == [stamps[0], stamps[2]]


def test_utc_offsets_are_held_in_utc_and_numbers_step_by_their_step():
    stamps = ["2020-01-01T01:00:00+01:00", "2020-01-01T02:00:00+01:00", "2020-01-01T03:00:00+01:00"]
    index = TimeIndex.from_values("t", [datetime.datetime.fromisoformat(s) for s in stamps])
    assert (index.frequency, index.labels([0])) == ("hourly", ["2020-01-01T00:00:00Z"])
    assert index.continued(1) == ["2020-01-01T03:00:00Z"]
    numbers = TimeIndex.from_values("t", [1990.0, 1995.0, 2000.0])
    assert (numbers.frequency, numbers.continued(2)) == ("step 5", [2005, 2010])
    positions = TimeIndex.positions(4)
    assert (positions.labels([0, 3]), positions.continued(1)) == ([0, 3], [4])


# -- the run's outputs on a monthly CSV and on one without a time column --------------------------


def test_monthly_csv_plots_summary_and_evaluation_use_its_dates(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_series(tmp_path / "monthly.csv", with_month=True)
    months = csv_months(path)
    train_end, validation_end = split_ends(len(months))
    config, data, evaluation = evaluation_of(path, time_column="month")
    test = evaluation["test"]

    assert test["time_axis"]["frequency"] == "monthly"
    assert test["target_timestamps"] == [[m] for m in months[validation_end:]]
    assert "origin_timestamps" not in test  # horizon 1: the target names the forecast

    fig, written = drawn_figure(evaluation, tmp_path, monkeypatch)
    expected_x = np.array(months[validation_end:], dtype="datetime64[D]")
    top, bottom = fig.axes
    for ax in (top, bottom):
        for line in ax.get_lines()[:-1] if ax is bottom else ax.get_lines():
            np.testing.assert_array_equal(np.asarray(line.get_xdata(), "datetime64[D]"), expected_x)
    from matplotlib import dates as mdates

    fig.canvas.draw()
    for ax in (top, bottom):
        assert isinstance(ax.xaxis.get_major_locator(), mdates.MonthLocator)
    labels = [t.get_text() for t in bottom.get_xticklabels() if t.get_text()]
    assert len(labels) >= 3 and all(re.fullmatch(r"[A-Z][a-z]{2} \d{4}", s) for s in labels)
    assert "month" in bottom.get_xlabel()

    options = types.SimpleNamespace(study_name="s", storage_url="sqlite:///x.db", output_dir="r")
    info = run_info(config, options, data, types.SimpleNamespace(tensorboard_dir=None))
    summary = summary_markdown(optuna.create_study(), info, evaluation)
    assert "- time axis: `month`, read as monthly" in summary
    assert f"  - train: {months[0]} to {months[train_end - 1]}" in summary
    assert f"  - validation: {months[train_end]} to {months[validation_end - 1]}" in summary
    assert f"  - test: {months[validation_end]} to {months[-1]}" in summary
    assert f"(targets {months[validation_end]} to {months[-1]})" in summary
    assert Path(written[0]).stat().st_size > 10_000


def test_monthly_horizon_3_carries_every_target_and_its_origin(tmp_path: Path) -> None:
    path = write_series(tmp_path / "monthly.csv", with_month=True)
    months = csv_months(path)
    _, validation_end = split_ends(len(months))
    _, _, evaluation = evaluation_of(path, time_column="month", horizon=3)
    test = evaluation["test"]
    first_targets = range(validation_end, len(months) - 2)
    assert test["target_timestamps"] == [months[t : t + 3] for t in first_targets]
    assert test["origin_timestamps"] == [months[t - 1] for t in first_targets]
    assert len(test["target_timestamps"]) == len(test["test_predictions"]["actual"])


def test_without_time_column_positions_are_used_and_labelled(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_series(tmp_path / "plain.csv", with_month=False)
    n = len(path.read_text().splitlines()) - 1
    train_end, validation_end = split_ends(n)
    config, data, evaluation = evaluation_of(path, time_column=None)
    test = evaluation["test"]
    assert test["time_axis"]["kind"] == "position"
    assert test["target_timestamps"] == [[t] for t in range(validation_end, n)]

    fig, _ = drawn_figure(evaluation, tmp_path, monkeypatch)
    np.testing.assert_array_equal(
        fig.axes[0].get_lines()[0].get_xdata(), np.arange(validation_end, n)
    )
    assert fig.axes[1].get_xlabel() == "position in the series (no data.time_column)"

    options = types.SimpleNamespace(study_name="s", storage_url="sqlite:///x.db", output_dir="r")
    info = run_info(config, options, data, types.SimpleNamespace(tensorboard_dir=None))
    summary = summary_markdown(optuna.create_study(), info, evaluation)
    assert "- time axis: positions (no data.time_column)" in summary
    assert f"  - test: positions {validation_end} to {n - 1}" in summary
    # The series' yearly cycle (12 months) is longer than its window: the summary says so and
    # names the window that would reach one season back; a season that fits is not mentioned.
    window = test["window_size"]
    assert (window, test["season_length"]) == (config.data.window_size, 12) and window < 12
    assert (
        f"The season (12 steps) is longer than data.window_size ({window}): the model cannot see "
        "one season "
        "back, as seasonal naive does; a window of at least 13 steps lets it."
    ) in summary
    evaluation["test"] = {**test, "season_length": window}
    summary = summary_markdown(optuna.create_study(), info, evaluation)
    assert "is longer than data.window_size" not in summary


# -- lstm-tuner forecast ----------------------------------------------------------------------------


def export_tiny(tmp_path: Path, *, horizon: int, time_column: str | None) -> str:
    from lstm_tuner.serving.export import export_model

    return export_model(
        tiny_model(horizon),
        tmp_path / "export",
        input_mean=[10.0],
        input_scale=[2.0],
        target_mean=10.0,
        target_scale=2.0,
        metadata={
            "horizon": horizon,
            "target_name": "y",
            "feature_names": ["y"],
            "time_column": time_column,
        },
    )


def test_forecast_csv_continues_months_by_the_calendar_and_names_origins(tmp_path: Path) -> None:
    from lstm_tuner.serving.forecast import forecast_csv

    path = write_series(tmp_path / "monthly.csv", with_month=True)
    months = csv_months(path)
    last = datetime.date.fromisoformat(months[-1])
    assert last == datetime.date(2020, 2, 1)
    export = export_tiny(tmp_path, horizon=3, time_column="month")
    rows = list(csv.reader(forecast_csv(export, str(path), backtest=True).splitlines()))
    assert rows[0] == ["kind", "month", "origin", "step", "y_forecast", "y"]
    backtest = [r for r in rows[1:] if r[0] == "backtest"]
    assert [r[1] for r in backtest] == months[WINDOW:]
    assert [r[2] for r in backtest] == months[WINDOW - 1 : -1]
    forecast = [r[:4] for r in rows[1:] if r[0] == "forecast"]
    assert forecast == [
        ["forecast", add_months(last, k).isoformat(), months[-1], str(k)] for k in (1, 2, 3)
    ]
    assert forecast[0][1] == "2020-03-01"  # not 2020-03-03, as a median timedelta gave


def test_forecast_csv_without_time_column_uses_positions(tmp_path: Path) -> None:
    from lstm_tuner.serving.forecast import forecast_csv

    path = write_series(tmp_path / "plain.csv", with_month=False)
    n = len(path.read_text().splitlines()) - 1
    export = export_tiny(tmp_path, horizon=1, time_column=None)
    rows = list(csv.reader(forecast_csv(export, str(path), backtest=True).splitlines()))
    assert rows[0] == ["kind", "row", "step", "y_forecast", "y"]
    assert [r[1] for r in rows[1:]] == [str(t) for t in range(WINDOW, n + 1)]
    assert rows[-1][0] == "forecast"


def test_dropped_rows_leave_their_timestamps_out(tmp_path: Path) -> None:
    from lstm_tuner.timeseries.csv_file import read_series

    path = tmp_path / "gap.csv"
    path.write_text("month,y\n2020-03-01,3\n2020-01-01,1\n2020-02-01,\n2020-04-01,4\n")
    series = read_series(path, "y", time_column="month", missing="drop")
    assert series.time_index.labels(range(3)) == ["2020-01-01", "2020-03-01", "2020-04-01"]
    assert series.time_index.frequency == "irregular"
    interpolated = read_series(path, "y", time_column="month", missing="interpolate")
    assert interpolated.time_index.frequency == "monthly"


def test_continuation_mismatch_compares_in_the_data_format():
    from lstm_tuner.timeseries.time_index import TimeIndex

    def dates(*texts: str) -> TimeIndex:
        return TimeIndex.from_values("t", [datetime.datetime.fromisoformat(t) for t in texts])

    hourly = dates("2020-01-02T21:00", "2020-01-02T22:00", "2020-01-02T23:00")
    # Midnight written as a date alone in the other file still continues hourly data.
    assert hourly.continuation_mismatch(dates("2020-01-03", "2020-01-03T01:00"), 2) is None
    assert hourly.continuation_mismatch(dates("2020-01-03T01:00"), 1) == (
        "2020-01-03T00:00:00",
        "2020-01-03T01:00:00",
    )
    # Numbers to a relative tolerance: 0.1 + 0.2 is 0.30000000000000004.
    steps = TimeIndex.from_values("t", [0.0, 0.1, 0.2])
    assert steps.continuation_mismatch(TimeIndex.from_values("t", [0.1 + 0.2, 0.4]), 2) is None
    want, got = steps.continuation_mismatch(TimeIndex.from_values("t", [0.5]), 1)
    assert (want, got) == (pytest.approx(0.3), 0.5)
    # Irregular numbers have no next value: nothing to check (this crashed with a TypeError).
    irregular = TimeIndex.from_values("t", [0.0, 1.0, 5.0])
    assert irregular.frequency == "irregular"
    assert irregular.continuation_mismatch(TimeIndex.from_values("t", [7.0]), 1) is None
    # Numbers where dates were expected.
    assert hourly.continuation_mismatch(TimeIndex.from_values("t", [3.0]), 1) == (
        "2020-01-03T00:00:00",
        3,
    )
