"""PNG plots: each image read back (shape, size, not blank), on hand-made studies and after a real run."""

from __future__ import annotations

import json
import logging as std_logging
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import optuna
import pytest
from optuna.distributions import CategoricalDistribution
from optuna.trial import TrialState, create_trial

from lstm_tuner.engine import analysis, callbacks
from lstm_tuner.lstm.space import DEFAULT_SEARCH_SPACE
from lstm_tuner.reporting import model_plots as forecast_plots
from lstm_tuner.reporting import search_plots as plots

pytest.importorskip("matplotlib")

SPACE = {
    **{spec.name: spec.distribution() for spec in DEFAULT_SEARCH_SPACE},
    "activation": CategoricalDistribution(["tanh", "relu"]),
}


def assert_real_png(path: str | Path, min_width: int = 300, min_height: int = 200) -> None:
    """The file is a PNG that decodes to an image of real size with varied pixels."""
    from matplotlib import image

    path = Path(path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", path
    assert path.stat().st_size > 10_000, (path, path.stat().st_size)
    pixels = image.imread(path)
    assert pixels.ndim == 3 and pixels.shape[2] in (3, 4), pixels.shape
    assert pixels.shape[0] >= min_height and pixels.shape[1] >= min_width, pixels.shape
    rgb = pixels[..., :3]
    assert float(rgb.std()) > 0.02, "blank image"
    # more than background and one line colour: axes, text and data were drawn
    assert len(np.unique(rgb.reshape(-1, 3), axis=0)) > 20


def _study(n: int = 8) -> optuna.Study:
    rng = np.random.default_rng(0)
    study = optuna.create_study()
    for _ in range(n):
        params = {
            "hidden_size": int(rng.choice([64, 128, 192, 256])),
            "num_layers": int(rng.integers(1, 4)),
            "dropout": float(rng.uniform(0, 0.4)),
            "lr": float(10 ** rng.uniform(-4, -2.4)),
            "batch_size": int(rng.choice([32, 64, 128])),
            "activation": str(rng.choice(["tanh", "relu"])),
        }
        history = [
            {"loss": 1.0 / (e + 1) + 0.1, "val_loss": 1.2 / (e + 1) + rng.uniform(0, 0.1)}
            for e in range(5)
        ]
        study.add_trial(
            create_trial(
                params=params,
                distributions=SPACE,
                value=float(rng.uniform(0.1, 1.0)),
                user_attrs={"history": history, "epochs_run": 5},
            )
        )
    study.add_trial(
        create_trial(
            params=params,
            distributions=SPACE,
            state=TrialState.PRUNED,
            intermediate_values={0: 0.9, 1: 0.7},
        )
    )
    return study


def test_search_plots_are_real_images(tmp_path):
    study = _study()
    written = plots.write_search_plots(study, str(tmp_path / "plots"), objective_name="val_loss")
    names = sorted(os.path.basename(p) for p in written)
    assert names == sorted(
        [plots.OPTIMIZATION_HISTORY, plots.PARAM_IMPORTANCES, plots.SLICE, plots.BEST_TRIAL_LOSS]
    )
    for path in written:
        assert_real_png(path)
    assert not list((tmp_path / "plots").glob("*.tmp-*"))  # written atomically


def test_search_plots_leave_matplotlib_style_alone(tmp_path):
    import matplotlib

    before = dict(matplotlib.rcParams)
    plots.write_search_plots(_study(), str(tmp_path / "plots"), objective_name="val_loss")
    # Optuna's history plot calls plt.style.use("ggplot"); that must not leak into later figures
    assert dict(matplotlib.rcParams) == before


def test_slice_panels_span_the_searched_range_and_star_the_best(tmp_path, monkeypatch):
    figures = []
    monkeypatch.setattr(plots, "save", lambda fig, path, **kw: figures.append(fig) or path)
    study = _study()
    plots.plot_slices(study, str(tmp_path / "slice.png"), objective_name="val_loss")
    panels = {ax.get_xlabel(): ax for ax in figures[0].axes if ax.get_xlabel()}
    assert set(panels) == set(SPACE)
    complete = [t for t in study.trials if t.state == TrialState.COMPLETE]
    for name in ("hidden_size", "num_layers", "dropout", "lr"):
        low, high = panels[name].get_xlim()
        assert low < SPACE[name].low and high > SPACE[name].high, name  # not zoomed to the samples
        assert len(panels[name].collections[0].get_offsets()) == len(complete), name
    assert panels["lr"].get_xscale() == "log"
    star = [line for line in panels["dropout"].get_lines() if line.get_label() == "best"]
    assert star and list(star[0].get_xdata()) == [study.best_trial.params["dropout"]]
    assert [tick.get_text() for tick in panels["activation"].get_xticklabels()] == ["tanh", "relu"]


def test_forecast_plots_are_real_images(tmp_path):
    from lstm_tuner.timeseries import baselines

    series = 100 + 10 * np.sin(np.arange(122) / 5)
    actual = np.stack([series[1:121], series[2:122]], axis=1)  # two steps ahead
    naive = np.repeat(series[:120, None], 2, axis=1)
    errors = {
        "retrained": baselines.errors(actual + 1.5, actual, 1.0),
        "naive_last_value": baselines.errors(naive, actual, 1.0),
    }
    evaluation = {
        "retraining": {
            "epochs_run": 4,
            "history": {"loss": [1.0, 0.6, 0.4, 0.35], "val_loss": [1.1, 0.7, 0.5, 0.55]},
        },
        "test": {
            "units": "original units of 'load'",
            "test_windows": 120,
            "horizon": 2,
            "final_model": "retrained",
            "best_baseline": "naive_last_value",
            "models": {"retrained": errors["retrained"]},
            "baselines": {"naive_last_value": errors["naive_last_value"]},
            "test_predictions": {
                "actual": actual.tolist(),
                "retrained": (actual + 1.5).tolist(),
                "naive_last_value": naive.tolist(),
            },
        },
    }
    written = forecast_plots.write_forecast_plots(evaluation, str(tmp_path), target_name="load")
    assert [os.path.basename(p) for p in written] == [
        plots.RETRAINED_LOSS,
        plots.TEST_PREDICTIONS,
        plots.ERROR_PER_STEP,
    ]
    for path in written:
        assert_real_png(path)


def test_history_layouts_and_bad_inputs(tmp_path):
    per_epoch = [{"loss": 1.0, "val_loss": 2.0}, {"loss": 0.5, "val_loss": 1.0}]
    assert plots.history_by_metric(per_epoch) == {"loss": [1.0, 0.5], "val_loss": [2.0, 1.0]}
    assert plots.history_by_metric({"loss": [1, 2]}) == {"loss": [1.0, 2.0]}
    with pytest.raises(ValueError, match="no loss"):
        plots.plot_loss_curves([{"mae": 1.0}], str(tmp_path / "x.png"), title="t")
    with pytest.raises(ValueError, match="one shape"):
        forecast_plots.plot_test_predictions([1.0, 2.0], [1.0], str(tmp_path / "y.png"))


def test_plots_without_data_are_skipped_with_a_warning(tmp_path, caplog):
    empty = optuna.create_study()
    with caplog.at_level(std_logging.WARNING):
        assert plots.write_search_plots(empty, str(tmp_path), objective_name="val_loss") == []
    assert any("no COMPLETE trial" in r.getMessage() for r in caplog.records)
    # one complete trial: no importance (needs two), the other plots still come
    one = optuna.create_study()
    one.add_trial(create_trial(params={"lr": 1e-3}, distributions={"lr": SPACE["lr"]}, value=0.5))
    written = plots.write_search_plots(one, str(tmp_path), objective_name="val_loss")
    assert plots.PARAM_IMPORTANCES not in {os.path.basename(p) for p in written}
    assert plots.OPTIMIZATION_HISTORY in {os.path.basename(p) for p in written}
    imp = analysis.param_importances(one)
    with pytest.raises(ValueError, match="no importances"):
        plots.plot_param_importances(one, imp, str(tmp_path / "imp.png"))


def test_missing_matplotlib_warns_once_and_draws_nothing(monkeypatch, caplog):
    for name in list(sys.modules):
        if name == "matplotlib" or name.startswith("matplotlib."):
            monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with caplog.at_level(std_logging.WARNING):
        assert plots.is_available() is False
        assert plots.check_available() is False
    found = [r for r in caplog.records if "matplotlib is not installed" in r.getMessage()]
    assert len(found) == 1 and "--no_plots" in found[0].getMessage()


def test_run_writes_every_plot_and_links_them_from_the_summary(finished_run):
    """The whole run: search, retraining, plots, summary.md and TensorBoard logs."""
    out, result = finished_run.out, finished_run.result
    expected = {
        plots.OPTIMIZATION_HISTORY,
        plots.PARAM_IMPORTANCES,
        plots.SLICE,
        plots.BEST_TRIAL_LOSS,
        plots.RETRAINED_LOSS,
        plots.TEST_PREDICTIONS,
    }
    assert {p.name for p in (out / "plots").iterdir()} == expected
    for name in expected:
        assert_real_png(out / "plots" / name)
    summary = (out / "summary.md").read_text()
    for name in expected:
        assert f"](plots/{name})" in summary
    assert "## Parameter importance" in summary and "## Edge-of-space warnings" in summary
    assert f"tensorboard --logdir {out / 'tensorboard'}" in summary
    assert result.summary == summary

    # the test forecasts, in original units: the actual values are the CSV's last 48 rows (every
    # test row is a target), and the reported MSE is the forecasts' error against them
    load = np.loadtxt(finished_run.root / "series.csv", skiprows=1)
    evaluation = json.loads((out / "evaluation.json").read_text())
    pred = evaluation["test"]["test_predictions"]
    actual, retrained = np.array(pred["actual"]), np.array(pred["retrained"])
    np.testing.assert_allclose(actual[:, 0], load[192:], rtol=1e-6)
    assert retrained.shape == (48, 1)
    # the reported forecasts are the exported model's on the raw windows (its scaling runs in the
    # SavedModel's graph, not in the evaluation's code), and so are the interval bands
    import tensorflow as tf

    serve = tf.saved_model.load(str(out / "export" / "final")).signatures["serving_default"]
    windows = np.stack([load[t - 8 : t, None] for t in range(192, 240)]).astype(np.float32)
    served = serve(window=tf.constant(windows))
    np.testing.assert_allclose(retrained, served["prediction"].numpy(), rtol=1e-5, atol=1e-4)
    bands = pred["intervals"]
    for name in ("lower_80", "upper_80", "lower_95", "upper_95"):
        np.testing.assert_allclose(bands[name], served[name].numpy(), rtol=1e-5, atol=1e-4)
    assert np.mean((retrained[:, 0] - load[192:]) ** 2) == pytest.approx(
        evaluation["test"]["models"]["retrained"]["mse"], rel=1e-6
    )
    # Its daily cycle (24 steps) is longer than the 8-step window: said before the search.
    assert any("a window of at least 25 steps lets it" in m for m in finished_run.warnings), (
        finished_run.warnings
    )
    # One tiny run serves both checks (a session fixture runs once per xdist process).
    _check_summary_and_storage_seen_from_another_process(finished_run)


def _check_summary_and_storage_seen_from_another_process(finished_run) -> None:
    """summary.md's sections, and the run's storage opened by another process as
    optuna-dashboard would, while no worker runs."""
    out, result = finished_run.out, finished_run.result
    summary = (out / "summary.md").read_text()
    for section in (
        "## Results",
        "## Trials, best first",
        "## Parameter importance",
        "## Edge-of-space warnings",
        "optuna-dashboard sqlite:///",
    ):
        assert section in summary
    assert "Total time:" in summary and "Trials: 2 COMPLETE" in summary

    # No worker runs now: another process opens the storage as optuna-dashboard would.
    code = (
        "import json, sys, optuna\n"
        "s = optuna.load_study(study_name=sys.argv[1], storage=sys.argv[2])\n"
        "print(json.dumps({'n': len(s.trials), 'best': s.best_trial.number, "
        "'params': s.best_trial.params, 'states': [t.state.name for t in s.trials]}))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, finished_run.name, f"sqlite:///{out / 'study.db'}"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    seen = json.loads(proc.stdout.strip().splitlines()[-1])
    assert seen["n"] == 2 and seen["states"] == ["COMPLETE", "COMPLETE"]
    assert seen["best"] == result.best_trial
    # (the 24-step cycle does not fit the 8-step window: auto searches delta and level)
    assert set(seen["params"]) == {"hidden_size", "dropout", "lr", "batch_size", "target_transform"}
    # TensorBoard: one directory per trial beside the experiment summary
    if callbacks.tensorboard_available():
        assert sorted(p.name for p in (out / "tensorboard").iterdir() if p.is_dir()) == [
            "trial_0000",
            "trial_0001",
        ]
