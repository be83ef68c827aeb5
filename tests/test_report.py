"""Reports on hand-made studies (no training): the results summary. A finished run's summary and
its storage opened by another process: test_plots.py (one run shared by both checks)."""

from __future__ import annotations

import datetime

import optuna
from optuna.trial import TrialState, create_trial
from test_analysis import MIDDLE, SPACE

from lstm_tuner.engine import analysis
from lstm_tuner.engine import results as report

optuna.logging.set_verbosity(optuna.logging.WARNING)


# -- the results summary -----------------------------------------------------------------------------


def _mixed_study() -> optuna.Study:
    study = optuna.create_study()

    def add(state: TrialState, value=None, user_attrs=None, intermediate_values=None):
        params = dict(MIDDLE, hidden_size=256 if value == 0.2 else 128)
        study.add_trial(
            create_trial(
                params=params,
                distributions=SPACE,
                value=value,
                state=state,
                user_attrs=user_attrs or {},
                intermediate_values=intermediate_values,
            )
        )

    add(TrialState.COMPLETE, 0.5, user_attrs={"epochs_run": 5, "best_epoch": 5})
    add(TrialState.COMPLETE, 0.2, user_attrs={"epochs_run": 5, "best_epoch": 3})
    add(TrialState.FAIL, user_attrs={"fail_reason": "non-finite loss (nan) at epoch 2"})
    add(TrialState.PRUNED, intermediate_values={0: 0.9, 1: 0.8})
    return study


def test_results_summary_has_counts_reasons_time_table_importance_and_warnings():
    study = _mixed_study()
    text = report.format_results(study, objective_name="val_loss", num_trials=10)
    lines = text.splitlines()
    assert "Trials: 2 COMPLETE, 1 FAIL, 1 PRUNED" in lines
    assert "  trial 2 FAIL: non-finite loss (nan) at epoch 2" in lines
    assert "  trial 3 PRUNED: pruned after epoch 2 (val_loss=0.8)" in lines
    assert any(line.startswith("Total time: ") and " s in trials" in line for line in lines)
    assert "Best trial: 1 (val_loss = 0.2)" in lines and "  hidden_size: 256" in lines
    importance = analysis.param_importances(study)
    assert f"Parameter importance ({importance.evaluator}, 2 complete trials):" in text
    assert "Edge-of-space warnings:" in text and "best hidden_size=256 is at the top" in text
    header = next(line for line in lines if line.startswith("| trial |"))
    assert header.split(" | ")[1:] == [
        "state",
        *SPACE,
        "best val_loss",
        "best epoch",
        "epochs run",
        "duration (s)",
        "note |",
    ]
    rows = [line for line in lines if line.startswith("| ") and not line.startswith("| trial")]
    # sorted by value: the best COMPLETE first, then the rest by number
    assert [r.split(" | ")[0].strip("| ") for r in rows] == ["1", "0", "2", "3"]
    assert rows[3].split(" | ")[-3] == "2"  # a pruned trial's epochs run come from its reports


def test_total_time_sums_trials_and_measures_the_wall_clock():
    study = optuna.create_study()
    t0 = datetime.datetime(2025, 1, 1, 12, 0, 0)
    for start_s, end_s in ((0, 10), (5, 30)):
        trial = create_trial(params={}, distributions={}, value=1.0)
        trial.datetime_start = t0 + datetime.timedelta(seconds=start_s)
        trial.datetime_complete = t0 + datetime.timedelta(seconds=end_s)
        study.add_trial(trial)
    assert report.total_time_s(study) == (35.0, 30.0)
    assert report.format_total_time(study) == (
        "Total time: 35.0 s in trials (wall clock 30.0 s, first start to last finish)"
    )
