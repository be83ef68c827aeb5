"""README promises that had no test of their own: each test below fails if its promise breaks."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import numpy as np
import pytest

from lstm_tuner.config.schema import config_from_dict


def _weekly_csv(path: Path, n: int = 420) -> Path:
    """A daily series with a weekly cycle and a little noise."""
    rng = np.random.default_rng(0)
    t = np.arange(n)
    y = 50 + 10 * np.sin(2 * np.pi * t / 7) + rng.normal(0, 0.5, n)
    path.write_text("y\n" + "".join(f"{float(v)!r}\n" for v in y))
    return path


@pytest.mark.parametrize(
    "setting, season, source",
    [
        (None, 7, "detected from the training split"),  # null: detected
        (1, None, "data.season_length"),  # 1: no season
        (7, 7, "data.season_length"),  # given
        (14, 14, "data.season_length"),  # given, even where another one is detected
    ],
)
def test_season_length_null_one_or_given(tmp_path, setting, season, source):
    from lstm_tuner.timeseries.series import load_data

    data = {"csv": str(_weekly_csv(tmp_path / "w.csv")), "target": "y", "window_size": 16}
    if setting is not None:
        data["season_length"] = setting
    loaded = load_data(config_from_dict({"data": data}).data)
    assert (loaded.season_length, loaded.season_source) == (season, source)


def test_auto_searches_seasonal_delta_and_delta_on_the_builtin_series():
    from lstm_tuner.config import load_config
    from lstm_tuner.job.search import make_hypermodel
    from lstm_tuner.timeseries.series import load_data

    root = Path(__file__).resolve().parent.parent
    config = load_config(str(root / "configs" / "lstm_baseline.yaml"))
    assert config.data.target_transform == "auto"
    data = load_data(config.data)
    assert data.season_length == 24  # the built-in series' daily cycle, detected
    from lstm_tuner.engine.hyperparameters import HyperParameters

    hypermodel = make_hypermodel(config, data.num_features, data.anchor_season)
    hp = HyperParameters()
    hypermodel.declare_hyperparameters(hp)
    spec = {s.name: s for s in hp.space}["target_transform"]
    assert spec.choices == ("linear_ar", "seasonal_delta")


def test_an_export_that_crashes_midway_leaves_the_previous_one_and_no_temporary_directory(
    tmp_path, monkeypatch
):
    import keras

    from lstm_tuner.serving.export import METADATA_FILENAME, export_model

    model = keras.Sequential([keras.Input((4, 1)), keras.layers.Flatten(), keras.layers.Dense(1)])

    def export(version: str) -> None:
        export_model(
            model,
            tmp_path / "export",
            input_mean=[0.0],
            input_scale=[1.0],
            target_mean=0.0,
            target_scale=1.0,
            metadata={"horizon": 1, "version": version},
        )

    export("first")
    before = sorted(os.listdir(tmp_path / "export"))

    def crash(self, *args, **kwargs):
        os.makedirs(args[0], exist_ok=True)
        Path(args[0], "saved_model.pb").write_bytes(b"half a model")
        raise OSError("disk full")

    # ExportArchive() builds the backend's own class: the crash goes into that one
    monkeypatch.setattr(type(keras.export.ExportArchive()), "write_out", crash)
    with pytest.raises(OSError, match="disk full"):
        export("second")
    assert sorted(os.listdir(tmp_path)) == ["export"]  # no temporary directory left
    assert sorted(os.listdir(tmp_path / "export")) == before
    meta = json.loads((tmp_path / "export" / METADATA_FILENAME).read_text())
    assert meta["version"] == "first"


def test_the_oracle_write_methods_and_logger_are_refused(tmp_path):
    import lstm_tuner as lt

    def build(hp):
        import keras

        model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(hp.Int("u", 1, 2))])
        model.compile("adam", "mse")
        return model

    tuner = lt.RandomSearch(build, objective="val_loss", max_trials=1, directory=tmp_path)
    for name in ("create_trial", "update_trial", "end_trial", "score_trial", "populate_space"):
        with pytest.raises(AttributeError, match=rf"oracle\.{name}: .*Optuna study"):
            getattr(tuner.oracle, name)
    tuner.search(
        np.zeros((4, 2)),
        np.zeros((4, 1)),
        validation_data=(np.zeros((4, 2)), np.zeros((4, 1))),
        epochs=1,
        verbose=0,
    )
    trial = tuner.oracle.get_best_trials(1)[0]
    with pytest.raises(AttributeError, match=r"trial\.save: .*read-only"):
        getattr(trial, "save")  # noqa: B009
    with pytest.raises(AttributeError, match=r"trial\.metrics\.update: .*read-only"):
        getattr(trial.metrics, "update")  # noqa: B009
    with pytest.raises(AttributeError, match="object has no attribute 'nothing'"):
        getattr(trial, "nothing")  # noqa: B009
    with pytest.raises(ValueError, match="KerasTuner deprecated its logger"):
        lt.RandomSearch(build, objective="val_loss", directory=tmp_path, logger=object())


def test_rolling_origin_errors_per_step_ahead_by_hand(tmp_path):
    """horizon > 1: every test window is an origin, and the error of each step ahead is the mean
    over origins of (forecast - actual)^2 at that step, in original units; the plot is written."""
    import keras

    from lstm_tuner.job.verdict import evaluate_on_test
    from lstm_tuner.reporting import model_plots
    from lstm_tuner.timeseries.series import load_data

    csv = _weekly_csv(tmp_path / "w.csv", n=300)
    config = config_from_dict(
        {
            "data": {"csv": str(csv), "target": "y", "window_size": 8, "horizon": 3},
            "evaluation": {"statistical_models": [], "interval_levels": []},
        }
    )
    data = load_data(config.data)
    model = keras.Sequential([keras.Input((8, 1)), keras.layers.Flatten(), keras.layers.Dense(3)])
    test = evaluate_on_test({"best_trial": model}, data, config)
    # by hand: the raw series, the test origins, the model on the scaled windows, unscaled here
    y = np.loadtxt(csv, skiprows=1)
    _, validation_end = data.boundaries
    origins = np.arange(validation_end, len(y) - 2)
    assert test["test_windows"] == len(origins)
    mean, std = y[: data.boundaries[0]].mean(), y[: data.boundaries[0]].std()
    windows = np.stack([(y[t - 8 : t] - mean) / std for t in origins])[..., None]
    forecast = model.predict(windows.astype(np.float32), verbose=0) * std + mean
    actual = np.stack([y[t : t + 3] for t in origins])
    per_step = ((forecast - actual) ** 2).mean(axis=0)
    np.testing.assert_allclose(test["models"]["best_trial"]["mse_per_step"], per_step, rtol=1e-4)
    naive = ((y[origins - 1, None] - actual) ** 2).mean(axis=0)
    np.testing.assert_allclose(test["baselines"]["naive_last_value"]["mse_per_step"], naive)
    written = model_plots.write_forecast_plots(
        {"test": json.loads(json.dumps(test))}, str(tmp_path / "plots")
    )
    assert "error_per_step.png" in [Path(p).name for p in written]


def test_each_finished_trial_logs_a_line_with_its_values_and_a_rough_time_left(monkeypatch):
    """ "Trial 1 COMPLETE (2 of 5 finished): val_loss=0.3, best ...; u=2; elapsed ..., about 60 s
    left (rough)": the median finished trial (10 s and 30 s: 20 s) times the 3 trials left."""
    import datetime

    import optuna

    from lstm_tuner.engine import progress as progress_module
    from lstm_tuner.engine.hyperparameters import RECORDED_ATTR
    from lstm_tuner.engine.progress import SearchProgress

    # The line as logged, whatever absl's verbosity another test in this process left behind.
    lines = []
    monkeypatch.setattr(
        progress_module.logging, "info", lambda msg, *args: lines.append(msg % args)
    )

    study = optuna.create_study()
    start = datetime.datetime(2026, 1, 1)
    distributions = {"u": optuna.distributions.IntDistribution(1, 4)}
    progress = SearchProgress(study, 5, "val_loss", live=False)
    for seconds, value, units in ((10, 0.5, 1), (30, 0.3, 2)):
        study.add_trial(
            optuna.trial.FrozenTrial(
                number=0,
                state=optuna.trial.TrialState.COMPLETE,
                value=value,
                datetime_start=start,
                datetime_complete=start + datetime.timedelta(seconds=seconds),
                params={"u": units},
                distributions=distributions,
                user_attrs={RECORDED_ATTR: {"u": units}},
                system_attrs={},
                intermediate_values={},
                trial_id=0,
            )
        )
        progress.trial_finished(study, study.trials[-1])
    line = [text for text in lines if text.startswith("Trial 1 ")][0]
    assert line.startswith("Trial 1 COMPLETE (2 of 5 finished): val_loss=0.3, best 0.3 (trial 1)")
    assert "; u=2; elapsed " in line
    assert line.endswith(", about 60 s left (rough)")


def test_reevaluation_chooses_by_the_mean_and_reuses_recorded_runs(tmp_path):
    """study.reevaluate_top_k: K=2, S=3: the two best trials get 2 more runs each, the one with
    the lower mean wins; a second selection on the same study trains nothing."""
    import keras

    import lstm_tuner as lt
    from lstm_tuner.job.selection import REEVALUATION_ATTR, select_trial
    from lstm_tuner.storage.study import best_trials

    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 4)).astype("float32")
    y = (x @ np.array([1.0, -2.0, 0.5, 0.0], dtype="float32"))[:, None]
    fits = []

    class Counted(lt.HyperModel):
        def build(self, hp):
            model = keras.Sequential(
                [
                    keras.Input((4,)),
                    keras.layers.Dense(hp.Int("units", 1, 8)),
                    keras.layers.Dense(1),
                ]
            )
            model.compile(keras.optimizers.Adam(hp.Float("lr", 1e-3, 1e-1, sampling="log")), "mse")
            return model

        def fit(self, hp, model, *args, **kwargs):
            fits.append(hp.values["units"])
            return model.fit(*args, **kwargs)

    tuner = lt.RandomSearch(
        Counted(), objective="val_loss", max_trials=3, seed=0, directory=tmp_path
    )
    fit_kwargs = {"validation_data": (x, y), "epochs": 2, "verbose": 0}
    tuner.search(x, y, **fit_kwargs)
    assert len(fits) == 3
    chosen = select_trial(tuner, best_trials(tuner.study, 2), 3, (x, y), fit_kwargs)
    assert len(fits) == 3 + 2 * 2  # two more runs of each of the two best
    recorded = tuner.study.user_attrs[REEVALUATION_ATTR]
    top = sorted(tuner.study.trials, key=lambda t: t.value)[:2]
    means = {}
    for trial in top:
        values = recorded[str(trial.number)]["values"]
        assert len(values) == 3 and values[0] == trial.value  # the trial's own run first
        means[trial.number] = float(np.mean(values))
        assert recorded[str(trial.number)]["mean"] == pytest.approx(means[trial.number])
    assert chosen.trial.number == min(means, key=means.get)
    again = select_trial(tuner, best_trials(tuner.study, 2), 3, (x, y), fit_kwargs)
    assert len(fits) == 7 and again.trial.number == chosen.trial.number  # nothing retrained


@pytest.mark.slow
@pytest.mark.parametrize(
    "strategy, verbose, used",
    [("one_device", 2, "OneDeviceStrategy"), ("default", 1, "_DefaultDistributionStrategy")],
)
def test_cli_strategy_and_verbose_flags_are_used(workdir: Path, strategy, verbose, used):
    # --strategy reaches the tuner (its log line names the strategy the trials ran under), and
    # --verbose reaches Keras's fit: 2 prints one line per epoch ("6/6 - 6s - 956ms/step - loss:
    # ..."), 1 a progress bar ("━"), 0 (every other CLI test) neither.
    from test_cli import run_cli

    proc = run_cli(
        workdir,
        "--config",
        "tiny.yaml",
        "--study-name",
        f"flags_{strategy}",
        "--n_trials",
        "1",
        "--override",
        "training.epochs=1",
        "--no_plots",
        # what follows the search is not what this test is about
        "--override",
        "evaluation.statistical_models=[]",
        "--override",
        "export.enabled=false",
        "--strategy",
        strategy,
        "--verbose",
        str(verbose),
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert f"Distribution strategy: {used} with 1 replica(s)" in proc.stderr
    assert re.search(r"\d+/\d+.*/step - loss: ", proc.stdout), proc.stdout[:500]
    assert ("━" in proc.stdout) == (verbose == 1)
