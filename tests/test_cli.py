"""The command line, run as a real process: end to end on tiny data, and every bad-input case."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from lstm_tuner.lstm.space import LSTM_PARAM_NAMES

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "scripts" / "hparam_search.py"

#: The spec's five hyperparameters: every trial that has sampled its values has these.
SPEC_NAMES = frozenset(LSTM_PARAM_NAMES)

TINY_CONFIG = """\
data:
  csv: series.csv
  target: load
  features: [temp]
  time_column: t
  window_size: 8
  split: {train: 0.6, validation: 0.2, test: 0.2}
search_space:
  hidden_size: {type: int, low: 8, high: 16, step: 8}
  num_layers: {type: int, low: 1, high: 2}
  dropout: {type: float, low: 0.0, high: 0.2}
  lr: {type: float, low: 1.0e-3, high: 1.0e-2, log: true}
  batch_size: {type: categorical, choices: [16, 32]}
study:
  n_trials: 5
  seed: 3
"""


def write_series_csv(path: Path, n: int = 300) -> np.ndarray:
    """A daily-cycle load with a temperature feature, rows written in shuffled time order."""
    rng = np.random.default_rng(0)
    t = np.arange(n)
    temp = 20 + 5 * np.sin(2 * np.pi * t / 50) + rng.normal(0, 0.5, n)
    load = 100 + 10 * np.sin(2 * np.pi * t / 24) + 0.8 * temp + rng.normal(0, 1, n)
    order = rng.permutation(n)
    lines = ["t,load,temp"] + [f"{t[i]},{load[i]:.4f},{temp[i]:.4f}" for i in order]
    path.write_text("\n".join(lines) + "\n")
    return np.stack([load, temp], axis=1)


def read_series_in_time_order(path: Path) -> np.ndarray:
    """The CSV written by write_series_csv as [time, (load, temp)], sorted by time."""
    raw = np.genfromtxt(path, delimiter=",", skip_header=1)
    return raw[np.argsort(raw[:, 0])][:, 1:]


def run_cli(cwd: Path, *args: str, timeout: int = 600) -> subprocess.CompletedProcess:
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "CUDA_VISIBLE_DEVICES": ""}
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def run_cli_in_process(
    cwd: Path, *args: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> subprocess.CompletedProcess:
    """The CLI's entry point called in this process, as ``run_cli`` would start it: for bad input,
    which ends before any training, without the cost of a new interpreter. Exit code, stdout and
    stderr as a ``CompletedProcess``; the flags and the log level are restored afterwards. (One
    real process ends with exit 2: test_unreadable_config; TensorFlow stays unimported while the
    input is checked: test_layout.py.)"""
    from absl import flags
    from absl import logging as absl_logging

    from lstm_tuner import cli

    monkeypatch.chdir(cwd)
    monkeypatch.setattr(sys, "argv", [str(SCRIPT), *args])
    verbosity = absl_logging.get_verbosity()
    capsys.readouterr()
    try:
        with pytest.raises(SystemExit) as ended:
            cli.run()
    finally:
        flags.FLAGS.unparse_flags()
        absl_logging.set_verbosity(verbosity)
    out, err = capsys.readouterr()
    return subprocess.CompletedProcess(args, ended.value.code, out, err)


def trial_weights(run_dir: Path, study_name: str, number: int, into: Path) -> Path:
    """A trial's weights, fetched from the run's artifact store with Optuna's own API."""
    import optuna

    study = optuna.load_study(study_name=study_name, storage=f"sqlite:///{run_dir / 'study.db'}")
    trial = study.trials[number]
    (meta,) = optuna.artifacts.get_all_artifact_meta(trial, storage=study._storage)
    path = into / meta.filename
    optuna.artifacts.download_artifact(
        artifact_store=optuna.artifacts.FileSystemArtifactStore(str(run_dir / "artifacts")),
        artifact_id=meta.artifact_id,
        file_path=str(path),
    )
    return path


def _rebuilt_model(run_dir: Path, export_name: str, weights: Path):
    """The export's model, rebuilt from its metadata's hyperparameters, with ``weights`` loaded."""
    from lstm_tuner.config import config_from_dict
    from lstm_tuner.engine.hyperparameters import HyperParameters
    from lstm_tuner.job.search import make_hypermodel
    from lstm_tuner.lstm.model import SeedEnsemble

    meta = json.loads((run_dir / "export" / export_name / "metadata.json").read_text())
    config = config_from_dict(meta["config"])  # the run's config, its --overrides included
    members = []
    for _ in range(meta.get("seeds", 1)):  # training.retrain_seeds: the mean of that many models
        member = make_hypermodel(config, 2, meta["season_length"]).build(
            HyperParameters.from_values(meta["hyperparameters"])
        )
        member.optimizer.build(member.trainable_variables)  # the weights file holds its state too
        members.append(member)
    model = members[0] if len(members) == 1 else SeedEnsemble(members)
    model.load_weights(weights)
    return model


def _serving_matches_keras(
    run_dir: Path, export_name: str, weights: Path, raw: np.ndarray, *, log: bool = False
) -> None:
    """The export serves what the Keras model predicts on windows scaled here by hand (with
    ``log``: the target's natural log standardized, and the forecast exponentiated)."""
    import tensorflow as tf

    export_dir = run_dir / "export" / export_name
    meta = json.loads((export_dir / "metadata.json").read_text())
    assert meta["feature_names"] == ["load", "temp"] and meta["target_name"] == "load"
    assert meta["window_size"] == 8 and meta["num_features"] == 2
    assert set(meta["versions"]) >= {"tensorflow", "keras", "optuna", "lstm_tuner"}
    windows = np.stack([raw[i : i + 8] for i in range(0, 40, 3)]).astype(np.float32)
    served = (
        tf.saved_model.load(str(export_dir))
        .signatures["serving_default"](window=tf.constant(windows))["prediction"]
        .numpy()
    )

    model = _rebuilt_model(run_dir, export_name, weights)
    # The scaling, computed here from the CSV's rows: the training split is the first 60% in time.
    seen = raw.copy()
    if log:
        seen[:, 0] = np.log(raw[:, 0])
    train = seen[: round(0.6 * len(raw))]
    mean, std = train.mean(axis=0), train.std(axis=0)
    inputs = np.stack([seen[i : i + 8] for i in range(0, 40, 3)])
    expected = (
        model.predict(((inputs - mean) / std).astype(np.float32), verbose=0) * std[0] + mean[0]
    )
    if log:
        expected = np.exp(expected)
    assert served.shape == (len(windows), 1)
    # raw units in and out: predictions are on the scale of the load (~100), not standardized
    assert 50 < float(np.mean(served)) < 150
    np.testing.assert_allclose(served, expected, rtol=1e-5, atol=1e-4)


@pytest.mark.slow
def test_end_to_end_search_export_and_resume(workdir: Path):
    raw = read_series_in_time_order(workdir / "series.csv")
    proc = run_cli(
        workdir,
        "--config",
        "tiny.yaml",
        "--study-name",
        "e2e",
        "--override",
        "training.epochs=1",
        "--override",
        "study.n_trials=3",
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    run_dir = workdir / "runs" / "e2e"
    best = json.loads((run_dir / "best_params.json").read_text())
    # the series' 24-step cycle does not fit in the 8-step window: data.target_transform "auto"
    # searches linear_ar and delta as a sixth hyperparameter
    assert set(best["params"]) == {
        "hidden_size",
        "num_layers",
        "dropout",
        "lr",
        "batch_size",
        "target_transform",
    }
    assert best["params"]["target_transform"] in ("linear_ar", "delta")
    rows = (run_dir / "trials.csv").read_text().splitlines()
    assert rows[0].startswith("number,state,hidden_size") and len(rows) == 4
    # Each trial's optimizer steps per epoch: the 172 training windows (rows 0..179, window 8)
    # in batches of its batch_size, once per epoch (min_steps_per_epoch is 0).
    for row in csv.DictReader(rows):
        assert int(row["steps_per_epoch"]) == -(-172 // int(row["batch_size"])), row
    assert "COMPLETE" in rows[1]
    summary = (run_dir / "summary.md").read_text()
    assert f"Best trial: {best['trial_number']}" in summary
    assert "3 of 3 trials complete" in proc.stdout
    assert "/step - loss" not in proc.stdout + proc.stderr  # --verbose 0: Keras prints nothing
    assert (run_dir / "study.db").exists()
    weights = trial_weights(run_dir, "e2e", best["trial_number"], workdir)
    _serving_matches_keras(run_dir, "best_trial", weights, raw)
    # no temporary export directories left behind
    assert sorted(p.name for p in (run_dir / "export").iterdir()) == ["best_trial"]
    # insight: importance, edge warnings and plots by default (tests/test_plots.py reads them back)
    assert "## Parameter importance" in summary and "## Edge-of-space warnings" in summary
    assert {"optimization_history.png", "slice.png"} <= {
        p.name for p in (run_dir / "plots").iterdir()
    }

    again = run_cli(
        workdir,
        "--config",
        "tiny.yaml",
        "--study_name",
        "e2e",
        "--override",
        "training.epochs=1",
        "--override",
        "study.n_trials=3",
    )
    assert again.returncode == 0, again.stderr[-3000:]
    assert "3 of 3 trials complete" in again.stdout
    assert len((run_dir / "trials.csv").read_text().splitlines()) == 4  # nothing trained again

    check_forecast_command(workdir, run_dir, raw)

    # an artifact store that lost the weights the study records: one line naming it, exit code 1
    for path in (run_dir / "artifacts").iterdir():
        path.unlink()
    broken = run_cli(workdir, "--config", "tiny.yaml", "--study-name", "e2e", "--n_trials", "3")
    assert broken.returncode == 1, broken.stderr[-3000:]
    assert "are not in file://" in broken.stderr.strip().splitlines()[-1]

    import optuna

    study = optuna.load_study(study_name="e2e", storage=f"sqlite:///{run_dir / 'study.db'}")
    assert [t.state.name for t in study.trials] == ["COMPLETE"] * 3


@pytest.mark.slow
def test_end_to_end_retrain_evaluate_and_export_final(workdir: Path):
    raw = read_series_in_time_order(workdir / "series.csv")
    proc = run_cli(
        workdir,
        "--config",
        "tiny.yaml",
        "--study-name",
        "rt",
        "--n_trials",
        "2",
        "--override",
        "training.epochs=1",
        "--override",
        "training.early_stopping_patience=1",
        "--retrain_epochs",
        "6",
        "--no_plots",
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    run_dir = workdir / "runs" / "rt"
    assert not (run_dir / "plots").exists()  # --no_plots
    evaluation = json.loads((run_dir / "evaluation.json").read_text())
    test, retraining = evaluation["test"], evaluation["retraining"]
    assert set(test["models"]) == {"retrained", "best_trial"}
    assert set(test["baselines"]) >= {"naive_last_value", "drift", "training_mean"}
    # a delta model's own anchor (no LSTM) is a baseline it must beat; a level model has none
    final_meta = json.loads((run_dir / "export" / "final" / "metadata.json").read_text())
    assert ("model_anchor" in test["baselines"]) == (final_meta["target_transform"] != "level")

    # The test split is rows 240..299 in time order; every one of them is a target (the first
    # windows take their inputs from the validation rows). The naive forecast, by hand:
    load = raw[:, 0]
    assert test["test_windows"] == 60
    naive_mse = float(np.mean((load[240:] - load[239:-1]) ** 2))
    assert test["baselines"]["naive_last_value"]["mse"] == pytest.approx(naive_mse, rel=1e-6)
    np.testing.assert_allclose(np.ravel(test["test_predictions"]["actual"]), load[240:], rtol=1e-6)
    assert (test["final_model"], evaluation["verdict"]) == ("retrained", verdict_of(test))

    # The statistical models on the same windows. AutoETS called directly here: fitted on the
    # 240 points before the test split, then forward from each origin over the points before it.
    from statsforecast.models import AutoETS

    assert set(test["statistical"]) == {"auto_ets", "auto_arima", "auto_theta", "comb"}
    assert test["not_fitted"] == {}
    season = test["statistical_models"]["auto_ets"]["season_length"]
    # The series' season (48, two days) is longer than AutoETS supports: it takes the day.
    assert (test["season_length"], season) == (48, 24)
    assert "longer than AutoETS supports (24)" in test["statistical_models"]["auto_ets"]["note"]
    ets = AutoETS(season_length=season).fit(load[:240])
    ets_out = [ets.forward(load[:t], 1, level=[80]) for t in range(240, 300)]
    ets_forecast = np.array([out["mean"][0] for out in ets_out])
    ets_mse = float(np.mean((ets_forecast - load[240:]) ** 2))
    assert test["statistical"]["auto_ets"]["mse"] == pytest.approx(ets_mse, rel=1e-6)
    # ... with its own 80% interval, scored on the same test values
    lower = np.array([out["lo-80"][0] for out in ets_out])
    upper = np.array([out["hi-80"][0] for out in ets_out])
    ets_80 = test["statistical_intervals"]["auto_ets"]["80"]
    assert ets_80["coverage"] == np.mean((load[240:] >= lower) & (load[240:] <= upper))
    assert ets_80["mean_width"] == pytest.approx(float(np.mean(upper - lower)), rel=1e-6)

    # The retrained model's intervals: calibrated on its 60 validation windows, scored on the test
    # split; its bands are in the test plot's data.
    intervals = test["intervals"]["retrained"]
    assert intervals["calibration_windows"] == 60 and list(intervals["levels"]) == ["80", "95"]
    bands = test["test_predictions"]["intervals"]
    predicted = np.ravel(test["test_predictions"]["retrained"])
    upper_95 = predicted + intervals["offsets"]["95"][0]
    np.testing.assert_allclose(np.ravel(bands["upper_95"]), upper_95, rtol=1e-6)
    inside = (load[240:] >= np.ravel(bands["lower_95"])) & (load[240:] <= upper_95)
    assert intervals["levels"]["95"]["coverage"] == pytest.approx(float(np.mean(inside)))
    assert evaluation["intervals"].startswith(
        "Prediction intervals of the retrained best configuration (split conformal on 60 "
        "validation windows of the same configuration trained on the training split alone, "
        "additive):"
    )
    assert evaluation["intervals"] in proc.stdout
    everyone = {**test["baselines"], **test["statistical"], **test["models"]}
    del everyone["best_trial"]
    best = min(everyone, key=lambda name: everyone[name]["mse"])
    assert test["best_forecaster"] == best
    if best == "retrained":
        assert evaluation["verdict"].startswith(
            "The retrained best configuration beats every baseline and statistical model"
        )
    else:
        from lstm_tuner.timeseries.statistical import LABELS

        assert evaluation["verdict"].startswith(f"The {LABELS[best]} forecast beats the model")

    # Early stopping with patience 1: it stops one epoch after the best, unless it ran them all.
    curve = retraining["history"]["val_loss"]
    assert retraining["epochs_run"] == len(curve) <= 6
    best_epoch = int(np.argmin(curve)) + 1
    assert retraining["best_epoch"] == best_epoch
    assert len(curve) == 6 or len(curve) == best_epoch + 1
    # ... and the best epoch's weights were restored: the model trained on train alone (the
    # refit's twin, whose validation error the evaluation quotes) scores the best val_loss, in
    # original units: times the target's variance on the training rows 0..179 (z-scored).
    assert test["validation"]["model"] == pytest.approx(min(curve) * raw[:180, 0].var(), rel=1e-4)
    # training.retrain_on: train_validation (the default): the exported model is the same
    # configuration trained again on the 232 training and validation windows, for best_epoch epochs.
    assert retraining["refit"] == {"windows": 232, "epochs": [best_epoch]}

    summary = (run_dir / "summary.md").read_text()
    assert "## Test set: the model against free baselines" in summary
    assert f"| AutoETS: {test['statistical_models']['auto_ets']['model']} | {ets_mse:.4g} |" in (
        summary
    )
    assert summary.splitlines()[2] == f"> **{evaluation['verdict']}**"
    assert "## Prediction intervals on the test split" in summary
    assert "| AutoETS | 80% | " in summary
    assert evaluation["verdict"] in proc.stdout
    _serving_matches_keras(run_dir, "final", run_dir / "retrained.weights.h5", raw)


@pytest.mark.slow
def test_log_scale_seed_ensemble_run_serves_original_units(workdir: Path):
    # data.target_scale: log end to end: the search, the retraining, the evaluation in original
    # units and the export, which must take raw windows and serve exp of the model's forecast.
    # training.retrain_seeds: 2: the retrained model is the mean of two trainings, one SavedModel;
    # data.window_normalization: last_value: a delta member's LSTM sees the window less its last
    # value, inside the same graph. training.retrain_on: train_validation (the default): each
    # member is then trained again on train + validation, and that ensemble is the one exported
    # and scored.
    raw = read_series_in_time_order(workdir / "series.csv")
    assert (raw[:, 0] > 0).all()
    proc = run_cli(
        workdir,
        "--config",
        "tiny.yaml",
        "--study-name",
        "log",
        "--n_trials",
        "2",
        "--override",
        "training.epochs=1",
        "--override",
        "data.target_scale=log",
        "--override",
        "training.retrain_seeds=2",
        "--override",
        "data.window_normalization=last_value",
        "--retrain_epochs",
        "2",
        "--no_plots",
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    run_dir = workdir / "runs" / "log"
    evaluation = json.loads((run_dir / "evaluation.json").read_text())
    test = evaluation["test"]
    assert test["target_scale"] == "log"
    assert "The model saw the target's natural log" in (run_dir / "summary.md").read_text()
    meta = json.loads((run_dir / "export" / "final" / "metadata.json").read_text())
    assert meta["scaling"]["target_log"] is True
    assert meta["config"]["data"]["target_scale"] == "log" and meta["seeds"] == 2
    seeds = evaluation["retraining"]["seeds"]
    assert seeds["count"] == 2 and len(seeds["runs"]) == 2
    summary = (run_dir / "summary.md").read_text()
    assert "retrained 2 times from different initializations" in summary
    refit = evaluation["retraining"]["refit"]
    assert refit["epochs"] == [run["best_epoch"] for run in seeds["runs"]]
    assert meta["trained_on"] == "train_validation"
    assert meta["refit_epochs"] == refit["epochs"]
    # the intervals are those of the members trained on train alone (their weights: test_retraining)
    assert test["intervals"]["retrained"]["residuals_of"].startswith("the same configuration")
    assert f"on the {refit['windows']} training and validation windows together" in summary
    # the test windows' forecasts in evaluation.json are the export's, in original units
    import tensorflow as tf

    windows = np.stack([raw[t - 8 : t] for t in range(240, 300)]).astype(np.float32)
    served = (
        tf.saved_model.load(str(run_dir / "export" / "final"))
        .signatures["serving_default"](window=tf.constant(windows))["prediction"]
        .numpy()
    )
    np.testing.assert_allclose(
        np.ravel(test["test_predictions"]["retrained"]), np.ravel(served), rtol=1e-5
    )
    _serving_matches_keras(run_dir, "final", run_dir / "retrained.weights.h5", raw, log=True)


def verdict_of(test: dict) -> str:
    from lstm_tuner.job.verdict import verdict

    return verdict(test)


def check_forecast_command(workdir: Path, run_dir: Path, raw: np.ndarray) -> None:
    """`lstm-tuner forecast` on the run's export: next value and backtest, in original units."""
    import tensorflow as tf

    proc = run_cli(
        workdir,
        "forecast",
        "--model",
        str(run_dir),
        "--csv",
        "series.csv",
        "--backtest",
        "--output",
        "forecast.csv",
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    lines = (workdir / "forecast.csv").read_text().splitlines()
    # the default intervals (80% and 95%) travel with the export into its columns
    bounds = ["lower_80", "upper_80", "lower_95", "upper_95"]
    assert (
        lines[0] == "kind,t,step,load_forecast," + ",".join(f"load_{b}" for b in bounds) + ",load"
    )
    rows = [line.split(",") for line in lines[1:]]
    backtest = [r for r in rows if r[0] == "backtest"]
    forecast = [r for r in rows if r[0] == "forecast"]
    # every row with 8 rows before it, in time order, with its actual value; then t = 300
    assert [int(r[1]) for r in backtest] == list(range(8, 300))
    np.testing.assert_allclose([float(r[-1]) for r in backtest], raw[8:, 0], rtol=1e-6)
    assert forecast == [["forecast", "300", "1", *forecast[0][3:8], ""]]
    serve = tf.saved_model.load(str(run_dir / "export" / "best_trial")).signatures[
        "serving_default"
    ]
    windows = np.stack([raw[t - 8 : t] for t in range(8, 301)]).astype(np.float32)
    out = serve(window=tf.constant(windows))
    for column, name in enumerate(["prediction", *bounds], start=3):
        served = out[name].numpy()[:, 0]
        np.testing.assert_allclose([float(r[column]) for r in backtest], served[:-1], rtol=1e-5)
        assert float(forecast[0][column]) == pytest.approx(float(served[-1]), rel=1e-5)
    # the bands are the prediction plus the offsets calibrated on the 60 validation windows
    meta = json.loads((run_dir / "export" / "best_trial" / "metadata.json").read_text())
    assert meta["intervals"]["calibration_windows"] == 60
    assert meta["intervals"]["levels"] == [80.0, 95.0]
    offset_95 = meta["intervals"]["offsets"]["95"][0]
    np.testing.assert_allclose(
        out["upper_95"].numpy()[:, 0] - out["prediction"].numpy()[:, 0], offset_95, rtol=1e-5
    )

    # bad input: the same one-line errors as the search, nothing written
    (workdir / "no_temp.csv").write_text("t,load\n" + "".join(f"{i},{i}\n" for i in range(20)))
    (workdir / "short.csv").write_text("t,load,temp\n" + "".join(f"{i},{i},1\n" for i in range(5)))
    (workdir / "text.csv").write_text("t,load,temp\n0,1,2\n1,x,2\n")
    for name, match in (
        ("no_temp.csv", "column 'temp' (data.features): not found"),
        ("short.csv", "has 5 rows, fewer than the model's window_size = 8"),
        ("text.csv", "column 'load': non-numeric value 'x' at row 3"),
    ):
        before = set(os.listdir(workdir))
        bad = run_cli(
            workdir, "forecast", "--model", str(run_dir), "--csv", name, "--output", "o.csv"
        )
        _assert_bad_input(bad, workdir, before, match)


# -- bad input: one line on stderr, exit code 2, nothing written ------------------------------------

BAD_CONFIGS = {
    "unknown key": ("training:\n  epochz: 3\n", "training.epochz: unknown key"),
    "wrong type": ("training:\n  epochs: five\n", "training.epochs"),
    "min > max": ("search_space:\n  hidden_size: {type: int, low: 256, high: 64}\n", "low <= high"),
    "step <= 0": (
        "search_space:\n  hidden_size: {type: int, low: 64, high: 256, step: 0}\n",
        "step: must be > 0",
    ),
    "log bound <= 0": (
        "search_space:\n  lr: {type: float, low: 0.0, high: 0.1, log: true}\n",
        "must be > 0 when log",
    ),
    "empty choices": ("search_space:\n  batch_size: {type: categorical, choices: []}\n", "choices"),
    "n_trials <= 0": ("study:\n  n_trials: 0\n", "study.n_trials"),
    "interval level 100": (
        "evaluation:\n  interval_levels: [80, 100]\n",
        "evaluation.interval_levels: must be a list of levels in percent, each > 0 and < 100, "
        "got [80, 100]",
    ),
    "interval level repeated": (
        "evaluation:\n  interval_levels: [80, 80.0]\n",
        "evaluation.interval_levels: must not repeat a level, got [80, 80.0]",
    ),
    "epochs <= 0": ("training:\n  epochs: 0\n", "training.epochs"),
    "split sum": ("data:\n  split: {train: 0.5, validation: 0.2, test: 0.2}\n", "data.split"),
    "split <= 0": ("data:\n  split: {train: 1.0, validation: 0.0, test: 0.0}\n", "data.split"),
    "yaml syntax": ("training: [epochs: 3\n", "YAML"),
    "number written as text": (
        "search_space:\n  lr: {type: float, low: '1e-4', high: 5e-3, log: true}\n",
        "search_space.lr.low: must be a finite number, got '1e-4'",
    ),
    "delimiter": ("data:\n  delimiter: ';;'\n", "data.delimiter: must be one character"),
}

DATA_CASES = {
    "csv missing": ("data:\n  csv: nope.csv\n  target: load\n", None, "nope.csv"),
    "target missing": ("data:\n  csv: s.csv\n  target: price\n", "load\n1\n2\n", "price"),
    "feature missing": (
        "data:\n  csv: s.csv\n  target: load\n  features: [temp]\n",
        "load\n1\n2\n",
        "temp",
    ),
    "non-numeric": ("data:\n  csv: s.csv\n  target: load\n", "load\n1\nabc\n3\n", "abc"),
    "missing values": (
        "data:\n  csv: s.csv\n  target: load\n",
        "load,x\n1,1\n,2\nNA,3\n",
        "missing",
    ),
    "constant target": (
        "data:\n  csv: s.csv\n  target: load\n  window_size: 4\n",
        "load\n" + "7\n" * 60,
        "column 'load' (data.target) is constant (7) over the training split (42 rows): there is "
        "nothing to learn",
    ),
    "constant feature": (
        "data:\n  csv: s.csv\n  target: load\n  features: [f]\n  window_size: 4\n",
        "load,f\n" + "".join(f"{i % 5},3\n" for i in range(60)),
        "column 'f' (data.features) is constant (3) over the training split (42 rows): it would be "
        "scaled by zero",
    ),
    "overflowing values": (
        "data:\n  csv: s.csv\n  target: load\n  window_size: 4\n",
        "load\n" + "".join(f"{(1 + i % 3) * 5e307}\n" for i in range(60)),
        "column 'load' (data.target): values too large to scale (their mean or spread overflows",
    ),
    "not utf-8": (
        "data:\n  csv: s.csv\n  target: load\n",
        "load,é\n1,2\n".encode("latin-1"),
        "not UTF-8 text and no UTF-8/UTF-16 byte-order mark (byte 0xE9 at offset 5)",
    ),
    "thousands without data.thousands": (
        "data:\n  csv: s.csv\n  target: load\n",
        'load\n"1,234.5"\n',
        "column 'load': non-numeric value '1,234.5' at row 2",
    ),
    "too short": (
        "data:\n  csv: s.csv\n  target: load\n  window_size: 80\n",
        "load\n" + "".join(f"{i % 7}\n" for i in range(100)),
        "split 'train' has 70 points, fewer than window_size + horizon = 81",
    ),
}


def _assert_bad_input(
    proc: subprocess.CompletedProcess, cwd: Path, before: set[str], match: str
) -> None:
    assert proc.returncode == 2, (proc.returncode, proc.stderr[-2000:])
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    assert match in lines[0], lines[0]
    assert set(os.listdir(cwd)) == before, "bad input must not create files"


@pytest.mark.parametrize("case", sorted(BAD_CONFIGS))
def test_bad_config_exits_2_with_one_line(tmp_path: Path, case: str, monkeypatch, capsys):
    text, match = BAD_CONFIGS[case]
    (tmp_path / "bad.yaml").write_text(text)
    before = set(os.listdir(tmp_path))
    proc = run_cli_in_process(
        tmp_path,
        "--config",
        "bad.yaml",
        "--study-name",
        "x",
        monkeypatch=monkeypatch,
        capsys=capsys,
    )
    _assert_bad_input(proc, tmp_path, before, match)
    assert "bad.yaml" in proc.stderr


@pytest.mark.parametrize("case", sorted(DATA_CASES))
def test_bad_data_exits_2_with_one_line(tmp_path: Path, case: str, monkeypatch, capsys):
    text, csv_text, match = DATA_CASES[case]
    (tmp_path / "c.yaml").write_text(text)
    if isinstance(csv_text, bytes):
        (tmp_path / "s.csv").write_bytes(csv_text)
    elif csv_text is not None:
        (tmp_path / "s.csv").write_text(csv_text)
    before = set(os.listdir(tmp_path))
    proc = run_cli_in_process(
        tmp_path, "--config", "c.yaml", "--study-name", "x", monkeypatch=monkeypatch, capsys=capsys
    )
    _assert_bad_input(proc, tmp_path, before, match)


@pytest.mark.parametrize(
    "args, match",
    [
        (["--config", "missing.yaml"], "missing.yaml"),
        (["--config", "ok.yaml", "--override", "trainingepochs2"], "key.path=value"),
        (["--config", "ok.yaml", "--override", "training.epochs=[1"], "training.epochs"),
        (["--config", "ok.yaml", "--strategy", "tpu_pod"], "--strategy"),
        (["--config", "ok.yaml", "--verbose", "3"], "--verbose"),
        (["--config", "ok.yaml", "--retrain_epochs", "-1"], "--retrain_epochs"),
        (
            ["--config", "ok.yaml", "--storage", "sqlite:////nonexistent-dir/x/study.db"],
            "--storage",
        ),
        (["--config", "ok.yaml", "--storage", "bogus://user:hunter2@host/db"], "--storage"),
        (["--config", "ok.yaml", "--n_trials", "0"], "--n_trials"),
        (["--study-name", "x"], "--config must have a value"),
        (["--config", "ok.yaml", "--bogus_flag", "1"], "bogus_flag"),
    ],
)
def test_bad_flags_exit_2_with_one_line(
    tmp_path: Path, args: list[str], match: str, monkeypatch, capsys
):
    (tmp_path / "ok.yaml").write_text("training:\n  epochs: 1\nstudy:\n  n_trials: 1\n")
    before = set(os.listdir(tmp_path))
    proc = run_cli_in_process(tmp_path, *args, monkeypatch=monkeypatch, capsys=capsys)
    _assert_bad_input(proc, tmp_path, before, match)
    assert "hunter2" not in proc.stderr


def test_unreadable_config(tmp_path: Path):
    if os.geteuid() == 0:
        # root reads any file; a directory in place of the file is unreadable for everyone
        (tmp_path / "dir.yaml").mkdir()
        name = "dir.yaml"
    else:
        (tmp_path / "locked.yaml").write_text("training: {}\n")
        (tmp_path / "locked.yaml").chmod(0)
        name = "locked.yaml"
    before = set(os.listdir(tmp_path))
    proc = run_cli(tmp_path, "--config", name)
    _assert_bad_input(proc, tmp_path, before, name)


def test_helpfull_and_flagfile(tmp_path: Path):
    proc = run_cli(tmp_path, "--helpfull")
    # absl ends --helpfull with exit code 1, after printing every flag
    assert (
        proc.returncode in (0, 1) and "--study_name" in proc.stdout and "--override" in proc.stdout
    )
    (tmp_path / "flags.txt").write_text(
        textwrap.dedent("""\
        --config=missing-from-flagfile.yaml
        --study-name=viaflagfile
    """)
    )
    proc = run_cli(tmp_path, "--flagfile", "flags.txt")
    assert proc.returncode == 2 and "missing-from-flagfile.yaml" in proc.stderr
