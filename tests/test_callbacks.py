"""The trial callbacks: TensorBoard and HParams logs read back from the event files, user callbacks."""

from __future__ import annotations

import glob
import logging as std_logging
import os
import sys

import pytest
import tensorflow as tf
from test_tuner import TINY_SPACE

import lstm_tuner as lt
from lstm_tuner.engine import callbacks

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


def test_search_writes_hparams_sessions_and_keras_scalars(tmp_path, sine_windows):
    pytest.importorskip("tensorboard")
    from tensorboard.plugins.hparams import metadata

    tuner = _tuner(tmp_path, "tb")
    _search(tuner, sine_windows)
    root = str(tmp_path / "tb" / "tensorboard")
    assert tuner.tensorboard_dir == root
    # No experiment summary: the HParams plugin infers the domains from the trials, as with KerasTuner.
    assert not _hparams_data(root, metadata.EXPERIMENT_TAG)

    for trial in tuner.study.get_trials():
        trial_dir = os.path.join(root, f"trial_{trial.number:04d}")
        (content,) = _hparams_data(trial_dir, metadata.SESSION_START_INFO_TAG)
        start = metadata.parse_session_start_info_plugin_data(content)
        assert start.group_name == str(trial.number)
        assert set(start.hparams) == SEARCHED
        for name in SEARCHED:
            assert start.hparams[name].number_value == pytest.approx(trial.params[name])
        assert _hparams_data(trial_dir, metadata.SESSION_END_INFO_TAG)
        # the objective (best epoch so far) in the trial's directory, equal to the trial's value
        objective = [v for v in _events(trial_dir) if v.tag == "val_loss"]
        assert objective and tf.make_ndarray(objective[-1].tensor) == pytest.approx(trial.value)
        # Keras's per-epoch scalars in train/ and validation/
        for group in ("train", "validation"):
            tags = {v.tag for v in _events(os.path.join(trial_dir, group))}
            assert "epoch_loss" in tags


def test_user_callbacks_are_copied_per_trial_and_tensorboard_gets_a_trial_directory(
    tmp_path, sine_windows
):
    pytest.importorskip("tensorboard")
    import keras
    from tensorboard.plugins.hparams import metadata

    stopper = keras.callbacks.EarlyStopping("val_loss", patience=0)
    board = keras.callbacks.TensorBoard(str(tmp_path / "logs"))
    tuner = lt.Tuner(
        lt.LSTMHyperModel(window_size=8, num_features=1, search_space=TINY_SPACE),
        max_trials=2,
        directory=tmp_path,
        project_name="cb",
        seed=4,
    )
    x, y, xv, yv = sine_windows
    tuner.search(x, y, validation_data=(xv, yv), epochs=2, verbose=0, callbacks=[stopper, board])
    # the user's own objects were never trained with: each trial got deep copies
    assert stopper.model is None and board.log_dir == str(tmp_path / "logs")
    assert sorted(p.name for p in (tmp_path / "logs").iterdir()) == ["0", "1"]
    for trial_id in ("0", "1"):
        run_dir = tmp_path / "logs" / trial_id / "execution0"
        assert {p.name for p in run_dir.iterdir()} >= {"train", "validation"}
        assert _hparams_data(str(run_dir), metadata.SESSION_START_INFO_TAG)


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
    assert not callbacks.tensorboard_available()
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
