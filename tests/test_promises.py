"""README promises that had no test of their own: each test below fails if its promise breaks."""

from __future__ import annotations

import json
import os
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
    from lstm_tuner.job.run import make_hypermodel
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
    assert spec.choices == ("seasonal_delta", "delta")


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
    with pytest.raises(ValueError, match="KerasTuner deprecated its logger"):
        lt.RandomSearch(build, objective="val_loss", directory=tmp_path, logger=object())
