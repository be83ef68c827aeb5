"""TensorBoard logs: Keras scalars and HParams summaries per trial, read back from the event files."""

from __future__ import annotations

import glob
import logging as std_logging
import os
import sys

import pytest
import tensorflow as tf
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution
from test_tuner import TINY_SPACE

import lstm_tuner as lt
from lstm_tuner import tensorboard as tb

SEARCHED = {s.name for s in TINY_SPACE}


def _tuner(tmp_path, project: str, max_trials: int = 2) -> lt.Tuner:
    return lt.Tuner(
        lt.LSTMHyperModel(window_size=8, num_features=1, search_space=TINY_SPACE),
        max_trials=max_trials,
        directory=tmp_path,
        project_name=project,
        seed=4,
        tensorboard_dir=str(tmp_path / project / "tensorboard"),
    )


def _search(tuner: lt.Tuner, data) -> None:
    x, y, xv, yv = data
    tuner.search(x, y, validation_data=(xv, yv), epochs=1, verbose=0)


def _events(directory: str) -> list:
    """Every summary value in the event files directly inside ``directory``."""
    values = []
    for path in sorted(glob.glob(os.path.join(directory, "events.out.tfevents.*"))):
        for event in tf.compat.v1.train.summary_iterator(path):
            values.extend(event.summary.value)
    return values


def _hparams_data(directory: str, tag: str) -> list:
    from tensorboard.plugins.hparams import metadata

    found = []
    for value in _events(directory):
        if value.tag == tag:
            assert value.metadata.plugin_data.plugin_name == metadata.PLUGIN_NAME
            found.append(value.metadata.plugin_data.content)
    return found


def test_search_writes_hparams_summaries_and_keras_scalars(tmp_path, sine_windows):
    pytest.importorskip("tensorboard")
    from tensorboard.plugins.hparams import api_pb2, metadata

    tuner = _tuner(tmp_path, "tb")
    _search(tuner, sine_windows)
    root = str(tmp_path / "tb" / "tensorboard")
    assert tuner.tensorboard_dir == root

    # The experiment: every searched hyperparameter with its domain, and the objective as a metric.
    (content,) = _hparams_data(root, metadata.EXPERIMENT_TAG)
    experiment = metadata.parse_experiment_plugin_data(content)
    infos = {info.name: info for info in experiment.hparam_infos}
    assert set(infos) == SEARCHED
    assert (
        infos["hidden_size"].domain_interval.min_value,
        infos["hidden_size"].domain_interval.max_value,
    ) == (8, 16)
    assert infos["lr"].domain_interval.min_value == pytest.approx(1e-3)
    assert infos["lr"].domain_interval.max_value == pytest.approx(1e-2)
    assert [v.number_value for v in infos["batch_size"].domain_discrete.values] == [16, 32]
    assert infos["batch_size"].type == api_pb2.DATA_TYPE_FLOAT64
    metric_tags = {(m.name.group, m.name.tag) for m in experiment.metric_infos}
    assert ("", "val_loss") in metric_tags and ("validation", "epoch_loss") in metric_tags

    for trial in tuner.study.get_trials():
        trial_dir = os.path.join(root, f"trial_{trial.number:04d}")
        (content,) = _hparams_data(trial_dir, metadata.SESSION_START_INFO_TAG)
        start = metadata.parse_session_start_info_plugin_data(content)
        assert start.group_name == f"trial_{trial.number:04d}"
        assert set(start.hparams) == SEARCHED
        for name in SEARCHED:
            assert start.hparams[name].number_value == pytest.approx(trial.params[name])
        # the objective (best epoch so far) in the trial's directory, equal to the trial's value
        objective = [v for v in _events(trial_dir) if v.tag == "val_loss"]
        assert objective and tf.make_ndarray(objective[-1].tensor) == pytest.approx(trial.value)
        # Keras's per-epoch scalars in train/ and validation/
        for group in ("train", "validation"):
            tags = {v.tag for v in _events(os.path.join(trial_dir, group))}
            assert "epoch_loss" in tags


def test_domains_are_the_union_over_an_edited_space():
    specs = tb.domain_specs(
        [
            (
                {
                    "hidden_size": IntDistribution(64, 256, step=64),
                    "lr": FloatDistribution(1e-4, 1e-3, log=True),
                    "batch_size": CategoricalDistribution([32, 64]),
                },
                {"hidden_size": 64, "lr": 1e-4, "batch_size": 32, "optimizer": "adam"},
            ),
            (
                {
                    "hidden_size": IntDistribution(32, 128, step=32),
                    "lr": FloatDistribution(1e-3, 1e-2, log=True),
                    "batch_size": CategoricalDistribution([64, 128]),
                },
                {"hidden_size": 32, "lr": 2e-3, "batch_size": 128, "optimizer": "sgd"},
            ),
        ]
    )
    assert specs["hidden_size"] == ("int", 32, 256)
    assert specs["lr"] == ("real", 1e-4, 1e-2)
    assert specs["batch_size"] == ("discrete", [32, 64, 128])
    assert specs["optimizer"] == ("discrete", ["adam", "sgd"])  # a fixed value per trial
    values = tb.session_values({"hidden_size": 32, "batch_size": 128, "flag": None}, specs)
    assert values == {"hidden_size": 32, "batch_size": 128}
    mixed = tb.domain_specs([({"units": CategoricalDistribution([None, 16])}, {"units": 16})])
    assert tb.session_values({"units": 16}, mixed) == {"units": "16"}


def _hide_tensorboard(monkeypatch: pytest.MonkeyPatch) -> None:
    """Makes ``import tensorboard`` (and its submodules) fail, as on a plain TensorFlow 2.21 install."""
    for name in list(sys.modules):
        if name == "tensorboard" or name.startswith("tensorboard."):
            monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.setitem(sys.modules, "tensorboard", None)


def test_missing_tensorboard_package_warns_once_and_the_search_runs(
    tmp_path, sine_windows, monkeypatch, caplog
):
    _hide_tensorboard(monkeypatch)
    assert not tb.is_available()
    with caplog.at_level(std_logging.WARNING):
        tuner = _tuner(tmp_path, "notb")
        _search(tuner, sine_windows)
    warnings = [
        r for r in caplog.records if "tensorboard package is not installed" in r.getMessage()
    ]
    assert len(warnings) == 1
    assert tuner.tensorboard_dir is None
    assert [t.state.name for t in tuner.study.get_trials()] == ["COMPLETE", "COMPLETE"]
    assert not (tmp_path / "notb" / "tensorboard").exists()
