"""``data.future_features``: inputs known in advance, seen at the steps the model forecasts."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from lstm_tuner.config.schema import config_from_dict
from lstm_tuner.errors import ConfigError, DataError


def _driven_csv(path: Path, n: int = 300, seed: int = 0) -> tuple[Path, np.ndarray, np.ndarray]:
    """``y[t] = 20 + 4 x[t] + small noise`` with ``x`` i.i.d.: without ``x[t]`` nothing but the
    mean can be forecast; with it, almost everything can. A column ``p`` of noise rides along."""
    rng = np.random.default_rng(seed)
    x = rng.normal(0.0, 1.0, n)
    y = 20.0 + 4.0 * x + rng.normal(0.0, 0.2, n)
    p = rng.normal(5.0, 1.0, n)
    days = np.datetime64("2021-01-01") + np.arange(n)
    rows = zip(days, y.tolist(), p.tolist(), x.tolist(), strict=True)
    path.write_text("day,y,p,x\n" + "".join(f"{d},{a!r},{b!r},{c!r}\n" for d, a, b, c in rows))
    return path, y, x


def test_lead_columns_by_hand():
    from lstm_tuner.timeseries.series import lead_columns

    values = np.array([[0.0, 10, 100], [1, 11, 101], [2, 12, 102], [3, 13, 103]])
    led = lead_columns(values, 1, 2)
    # The past columns stay; the last is led by 2, its last 2 rows repeat the last value.
    np.testing.assert_array_equal(led[:, :2], values[:, :2])
    np.testing.assert_array_equal(led[:, 2], [102, 103, 103, 103])
    assert lead_columns(values, 0, 2) is values


@pytest.mark.parametrize("horizon", [1, 3])
def test_windows_carry_the_future_features_at_their_target_steps(tmp_path, horizon):
    from lstm_tuner.timeseries.series import load_data

    path, y, x = _driven_csv(tmp_path / "d.csv", n=120)
    config = config_from_dict(
        {
            "data": {
                "csv": str(path),
                "target": "y",
                "future_features": ["x"],
                "time_column": "day",
                "window_size": 8,
                "horizon": horizon,
            }
        }
    )
    data = load_data(config.data)
    assert data.column_names == ("y", "x") and data.future_features == ("x",)
    for split in (data.train, data.validation, data.test):
        inputs, targets = split.arrays()
        origins = split.origins
        # Back to original units by hand: column 1 of the window's last `horizon` rows holds
        # x at the forecast steps t .. t + horizon - 1; column 0 holds y up to t - 1.
        scale, mean = data.scaler.scale, data.scaler.mean
        x_seen = inputs[:, -horizon:, 1] * scale[1] + mean[1]
        expected = np.stack([x[t : t + horizon] for t in origins])
        np.testing.assert_allclose(x_seen, expected, rtol=0, atol=1e-5)
        y_seen = inputs[:, :, 0] * scale[0] + mean[0]
        np.testing.assert_allclose(y_seen, np.stack([y[t - 8 : t] for t in origins]), atol=1e-4)
        assert targets.shape == (len(origins), horizon)


@pytest.mark.parametrize(
    "data, key",
    [
        ({"csv": "d.csv", "target": "y", "future_features": ["y"]}, "data.future_features"),
        (
            {"csv": "d.csv", "target": "y", "features": ["x"], "future_features": ["x"]},
            "data.future_features",
        ),
        ({"csv": "d.csv", "target": "y", "future_features": ["x", "x"]}, "data.future_features"),
        ({"future_features": ["x"]}, "data.future_features"),  # the built-in series
    ],
)
def test_bad_future_features_are_refused_in_one_line(data, key):
    with pytest.raises(ConfigError) as raised:
        config_from_dict({"data": data})
    message = str(raised.value)
    assert key in message and "\n" not in message


def test_a_missing_future_column_names_its_key(tmp_path):
    from lstm_tuner.timeseries.series import load_data

    path, _, _ = _driven_csv(tmp_path / "d.csv", n=60)
    config = config_from_dict(
        {"data": {"csv": str(path), "target": "y", "future_features": ["temperature"]}}
    )
    with pytest.raises(DataError, match=r"'temperature' \(data.future_features\)"):
        load_data(config.data)


def test_a_constant_future_column_is_refused_by_its_role(tmp_path):
    from lstm_tuner.timeseries.series import load_data

    path = tmp_path / "c.csv"
    path.write_text("y,p,x\n" + "".join(f"{i % 7},{i % 3},1\n" for i in range(60)))
    config = config_from_dict(
        {"data": {"csv": str(path), "target": "y", "features": ["p"], "future_features": ["x"]}}
    )
    with pytest.raises(DataError, match=r"column 'x' \(data.future_features\) is constant"):
        load_data(config.data)


def test_a_run_sees_the_driver_beats_the_models_that_cannot_and_serves_it(tmp_path):
    """End to end: search, retraining, export and ``lstm-tuner forecast --future``."""
    from lstm_tuner.config import load_config
    from lstm_tuner.job.options import RunOptions
    from lstm_tuner.job.run import run
    from lstm_tuner.serving.forecast import forecast_csv, load_export

    path, y, x = _driven_csv(tmp_path / "d.csv")
    config_path = tmp_path / "c.yaml"
    config_path.write_text(
        f"""
data:
  csv: {path}
  target: y
  features: [p]
  future_features: [x]
  time_column: day
  window_size: 8
  target_transform: level
  split: {{train: 0.6, validation: 0.2, test: 0.2}}
search_space:
  hidden_size: 16
  num_layers: 1
  dropout: 0.0
  lr: 1.0e-2
  batch_size: 16
training: {{epochs: 3, retrain_epochs: 20, early_stopping_patience: 5}}
study: {{n_trials: 1, seed: 0}}
export: {{enabled: true}}
"""
    )
    out = tmp_path / "run"
    result = run(load_config(str(config_path)), RunOptions(study_name="f", output_dir=str(out)))
    test = result.evaluation["test"]
    # Every baseline and univariate statistical model forecasts from y's past alone, where
    # nothing but the mean (variance 16) is to be had; the LSTM reads x[t], and so does AutoARIMA
    # with x as a regressor (y is linear in x: it is all but exact).
    statistical = {name: row["mse"] for name, row in test["statistical"].items()}
    assert set(statistical) == {"auto_ets", "auto_arima", "auto_theta", "comb", "auto_arima_x"}
    blind = {name: row["mse"] for name, row in test["baselines"].items()}
    blind.update({k: v for k, v in statistical.items() if k != "auto_arima_x"})
    assert min(blind.values()) > 10.0
    assert statistical["auto_arima_x"] < 0.1
    # ... with x alone as its regressor, never the past feature p
    assert test["statistical_models"]["auto_arima_x"]["model"].endswith(" with 1 regressor")
    assert test["models"]["retrained"]["mse"] < 0.25 * min(blind.values())
    assert test["best_forecaster"] == "auto_arima_x"

    # The export serves the Keras model's test forecasts from windows built by hand.
    export = load_export(str(out))
    assert export.metadata["future_features"] == ["x"]
    validation_end = round(len(y) * 0.8)
    origins = np.arange(validation_end, len(y))
    p = np.loadtxt(path, delimiter=",", skiprows=1, usecols=2)
    windows = np.stack(
        [np.stack([y[t - 8 : t], p[t - 8 : t], x[t - 7 : t + 1]], 1) for t in origins]
    )
    served = export.predict(windows)["prediction"][:, 0]
    np.testing.assert_allclose(
        served, np.ravel(test["test_predictions"]["retrained"]), rtol=1e-5, atol=1e-4
    )

    # `forecast`: the backtest rows are the same forecasts; the next step needs x from --future.
    with pytest.raises(DataError, match="--future: required"):
        forecast_csv(str(out), str(path))
    future = tmp_path / "future.csv"
    future.write_text("day,x\n2021-10-28,1.5\n")
    rows = list(
        csv.DictReader(
            forecast_csv(str(out), str(path), backtest=True, future_path=str(future)).splitlines()
        )
    )
    backtest = {r["day"]: float(r["y_forecast"]) for r in rows if r["kind"] == "backtest"}
    days = [str(np.datetime64("2021-01-01") + t) for t in origins]
    np.testing.assert_allclose([backtest[d] for d in days], served, rtol=1e-6)
    (last,) = [r for r in rows if r["kind"] == "forecast"]
    assert last["day"] == "2021-10-28"
    window = np.stack([y[-8:], p[-8:], np.append(x[-7:], 1.5)], axis=1)[None]
    assert float(last["y_forecast"]) == pytest.approx(export.predict(window)["prediction"][0, 0])
    assert float(last["y_forecast"]) == pytest.approx(20 + 4 * 1.5, abs=1.5)

    wrong = tmp_path / "wrong.csv"
    wrong.write_text("day,x\n2021-10-29,1.5\n")
    with pytest.raises(DataError, match="expected .2021-10-28., got .2021-10-29."):
        forecast_csv(str(out), str(path), future_path=str(wrong))

    # The CLI passes --future on (its errors exit 2 like every forecast error: test_cli.py).
    cli = [sys.executable, "-m", "lstm_tuner.cli", "forecast", "--model", str(out)]
    cli += ["--csv", str(path), "--future", str(future)]
    done = subprocess.run(cli, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1].startswith("forecast,2021-10-28,")


def test_forecast_csv_leads_the_future_features_by_the_horizon_on_hourly_data(tmp_path):
    """horizon 2, a past feature beside the future one, hourly rows ending at 23:00 and a --future
    file whose first row is at midnight (written in another format): windows built by hand."""
    import keras

    from lstm_tuner.serving.export import export_model
    from lstm_tuner.serving.forecast import forecast_csv, load_export

    n, window, horizon = 48, 4, 2
    rng = np.random.default_rng(5)
    y, p, x = rng.normal(10, 2, n), rng.normal(0, 1, n), rng.normal(3, 1, n)
    hours = [f"2020-01-01T{h:02d}:00:00" for h in range(24)]
    hours += [f"2020-01-02T{h:02d}:00:00" for h in range(24)]
    path = tmp_path / "h.csv"
    rows = zip(hours, y.tolist(), p.tolist(), x.tolist(), strict=True)
    path.write_text("t,y,p,x\n" + "".join(f"{a},{b!r},{c!r},{d!r}\n" for a, b, c, d in rows))
    future = tmp_path / "future.csv"
    future.write_text("t,x\n2020-01-03 00:00,7.5\n2020-01-03 01:00,8.5\n")
    model = keras.Sequential(
        [keras.Input((window, 3)), keras.layers.Flatten(), keras.layers.Dense(horizon)]
    )
    export = export_model(
        model,
        tmp_path / "export",
        input_mean=[10.0, 0.0, 3.0],
        input_scale=[2.0, 1.0, 1.0],
        target_mean=10.0,
        target_scale=2.0,
        metadata={
            "horizon": horizon,
            "target_name": "y",
            "feature_names": ["y", "p", "x"],
            "future_features": ["x"],
            "time_column": "t",
        },
    )
    text = forecast_csv(export, str(path), backtest=True, future_path=str(future))
    out = list(csv.DictReader(text.splitlines()))
    x_ahead = np.append(x, [7.5, 8.5])  # x at every step, the two after the file included

    def by_hand(t: int) -> np.ndarray:  # the window ending at row t - 1
        rows = np.arange(t - window, t)
        return np.stack([y[rows], p[rows], x_ahead[rows + horizon]], axis=1)

    served = load_export(export)
    backtest = [r for r in out if r["kind"] == "backtest"]
    expected = served.predict(np.stack([by_hand(t) for t in range(window, n)]))["prediction"]
    np.testing.assert_allclose(
        [float(r["y_forecast"]) for r in backtest], expected[:, 0], rtol=1e-6
    )
    forecast = [r for r in out if r["kind"] == "forecast"]
    assert [r["t"] for r in forecast] == ["2020-01-03T00:00:00", "2020-01-03T01:00:00"]
    last = served.predict(by_hand(n)[None])["prediction"][0]
    np.testing.assert_allclose([float(r["y_forecast"]) for r in forecast], last, rtol=1e-6)

    # a file of other hours is refused, naming the file, the column and both timestamps
    future.write_text("t,x\n2020-01-03 01:00,7.5\n2020-01-03 02:00,8.5\n")
    with pytest.raises(DataError) as raised:
        forecast_csv(export, str(path), future_path=str(future))
    assert "--future: column 't'" in str(raised.value)
    assert "expected '2020-01-03T00:00:00', got '2020-01-03T01:00:00'" in str(raised.value)
    # a file without the column names it by its role
    future.write_text("t,temperature\n2020-01-03 00:00,7.5\n2020-01-03 01:00,8.5\n")
    with pytest.raises(DataError, match=r"column 'x' \(data.future_features\): not found"):
        forecast_csv(export, str(path), future_path=str(future))
    # one value where the horizon needs two
    future.write_text("t,x\n2020-01-03 00:00,7.5\n")
    with pytest.raises(DataError, match="has 1 rows, fewer than the model's horizon = 2"):
        forecast_csv(export, str(path), future_path=str(future))
