"""Reports on hand-made studies (no training): edge warnings, importance, the results summary; and a run's
storage opened by another process."""

from __future__ import annotations

import datetime
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import optuna
import pytest
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution
from optuna.trial import TrialState, create_trial

from lstm_tuner import report

optuna.logging.set_verbosity(optuna.logging.WARNING)

SPACE = {
    "hidden_size": IntDistribution(64, 256, step=64),
    "num_layers": IntDistribution(1, 3),
    "dropout": FloatDistribution(0.0, 0.4),
    "lr": FloatDistribution(1e-4, 5e-3, log=True),
    "batch_size": CategoricalDistribution([32, 64, 128]),
}
MIDDLE = {"hidden_size": 128, "num_layers": 2, "dropout": 0.2, "lr": 7e-4, "batch_size": 64}


def _study(*trials: tuple[dict, float], space: dict | None = None, direction: str = "minimize"):
    """A study of COMPLETE trials ``(params, value)`` over ``space`` (default: the spec's)."""
    study = optuna.create_study(direction=direction)
    for params, value in trials:
        dists = {k: v for k, v in (space or SPACE).items() if k in params}
        study.add_trial(create_trial(params=params, distributions=dists, value=value))
    return study


def _best_is(params: dict, space: dict | None = None) -> list[report.EdgeWarning]:
    """Edge warnings of a study whose best trial has ``params`` (a worse one sits in the middle)."""
    worse = {k: v for k, v in MIDDLE.items() if k in params}
    return report.edge_warnings(_study((params, 0.1), (worse, 0.9), space=space))


def _only(warnings: list[report.EdgeWarning], name: str) -> list[report.EdgeWarning]:
    return [w for w in warnings if w.name == name]


# -- edge warnings: each rule firing and not firing ----------------------------------------------------


def test_the_middle_of_the_space_gives_no_warning():
    assert _best_is(dict(MIDDLE)) == []
    assert "none" in report.format_edge_warnings([])


@pytest.mark.parametrize(
    "name,top,bottom",
    [("hidden_size", 256, 64), ("num_layers", 3, 1)],
)
def test_capacity_at_the_top_or_bottom(name, top, bottom):
    (w,) = _only(_best_is({**MIDDLE, name: top}), name)
    assert w.edge == "high" and w.value == top
    assert "consider expanding the search space" in w.message and f"[{bottom}, {top}]" in w.message
    (w,) = _only(_best_is({**MIDDLE, name: bottom}), name)
    assert w.edge == "low" and "a simpler model may be enough" in w.message
    assert _only(_best_is({**MIDDLE, name: MIDDLE[name]}), name) == []


@pytest.mark.parametrize("dropout,fires", [(0.4, True), (0.33, True), (0.3, False), (0.0, False)])
def test_dropout_in_the_top_fifth(dropout, fires):
    found = _only(_best_is({**MIDDLE, "dropout": dropout}), "dropout")
    if fires:
        (w,) = found
        assert "top fifth" in w.message and "overfitting may be an issue" in w.message
    else:
        assert found == []


@pytest.mark.parametrize(
    "lr,edge,text",
    [
        (1.05e-4, "low", "at the low end"),
        (4.9e-3, "high", "at the high end"),
        (7e-4, None, None),
        # 1.5e-4 is near the low end on a linear scale but 10% into the log range: not at the end
        (1.5e-4, None, None),
    ],
)
def test_lr_at_either_end(lr, edge, text):
    found = _only(_best_is({**MIDDLE, "lr": lr}), "lr")
    if edge is None:
        assert found == []
    else:
        (w,) = found
        assert w.edge == edge and text in w.message
        assert ("lowering its lower bound" in w.message) == (edge == "low")
        assert ("raising its upper bound" in w.message) == (edge == "high")


def test_warnings_follow_the_space_each_trial_was_searched_in():
    wide = {**SPACE, "hidden_size": IntDistribution(64, 512, step=64)}
    assert _only(_best_is({**MIDDLE, "hidden_size": 256}, space=wide), "hidden_size") == []
    (w,) = _only(_best_is({**MIDDLE, "hidden_size": 512}, space=wide), "hidden_size")
    assert "[64, 512]" in w.message
    # Only the best trial's own distributions count, not those of other trials.
    study = optuna.create_study()
    for dists, value in ((wide, 0.1), (SPACE, 0.5)):
        hidden = {"hidden_size": dists["hidden_size"]}
        study.add_trial(
            create_trial(params={"hidden_size": 256}, distributions=hidden, value=value)
        )
    assert report.edge_warnings(study) == []


def test_long_int_ranges_and_continuous_floats_use_a_tenth_of_the_range():
    space = {"units": IntDistribution(8, 512), "momentum": FloatDistribution(0.0, 1.0)}
    (w,) = report.edge_warnings(_study(({"units": 470}, 0.1), space=space))
    assert w.name == "units" and w.edge == "high" and "expanding the search space" in w.message
    assert report.edge_warnings(_study(({"units": 400}, 0.1), space=space)) == []
    (w,) = report.edge_warnings(_study(({"momentum": 0.05}, 0.1), space=space))
    assert w.edge == "low" and "may lie below it" in w.message


def test_categorical_only_when_ordered_numeric():
    (w,) = _only(_best_is({**MIDDLE, "batch_size": 128}), "batch_size")
    assert w.edge == "high" and "choices [32, 64, 128]" in w.message
    assert _only(_best_is({**MIDDLE, "batch_size": 64}), "batch_size") == []
    words = {"activation": CategoricalDistribution(["relu", "tanh"])}
    assert report.edge_warnings(_study(({"activation": "tanh"}, 0.1), space=words)) == []
    flags = {"bidirectional": CategoricalDistribution([False, True])}
    assert report.edge_warnings(_study(({"bidirectional": True}, 0.1), space=flags)) == []


def test_a_parameter_fixed_to_one_value_has_no_edges():
    fixed = {
        "hidden_size": IntDistribution(128, 128),
        "num_layers": CategoricalDistribution([2]),
        "dropout": FloatDistribution(0.4, 0.4),
    }
    assert (
        report.edge_warnings(
            _study(({"hidden_size": 128, "num_layers": 2, "dropout": 0.4}, 0.1), space=fixed)
        )
        == []
    )
    # A Fixed hyperparameter is not an Optuna parameter at all: recorded in user attributes only.
    study = optuna.create_study()
    study.add_trial(
        create_trial(
            params={},
            distributions={},
            value=0.1,
            user_attrs={"hyperparameters": {"hidden_size": 256}},
        )
    )
    assert report.edge_warnings(study) == []


def test_no_complete_trial_no_warning_and_maximize_uses_the_highest_value():
    study = optuna.create_study()
    study.add_trial(create_trial(params={}, distributions={}, state=TrialState.FAIL))
    assert report.edge_warnings(study) == []
    maximize = _study(
        ({**MIDDLE, "num_layers": 3}, 0.9), ({**MIDDLE, "num_layers": 1}, 0.1), direction="maximize"
    )
    (w,) = report.edge_warnings(maximize)
    assert w.name == "num_layers" and w.edge == "high"


# -- parameter importance --------------------------------------------------------------------------------


def _lr_driven_study(n: int, seed: int = 0) -> optuna.Study:
    """``n`` trials whose value depends on ``lr`` only; the other parameters are noise."""
    rng = np.random.default_rng(seed)
    trials = []
    for _ in range(n):
        params = {
            "hidden_size": int(rng.choice([64, 128, 192, 256])),
            "num_layers": int(rng.integers(1, 4)),
            "dropout": float(rng.uniform(0, 0.4)),
            "lr": float(10 ** rng.uniform(-4, np.log10(5e-3))),
            "batch_size": int(rng.choice([32, 64, 128])),
        }
        trials.append((params, (np.log10(params["lr"]) + 3.0) ** 2))
    return _study(*trials)


def test_importance_ranks_the_parameter_that_matters_first():
    imp = report.param_importances(_lr_driven_study(40))
    assert imp.evaluator in ("PED-ANOVA", "fANOVA")
    assert list(imp.importances)[0] == "lr"
    assert set(imp.importances) == set(SPACE)
    assert sum(imp.importances.values()) == pytest.approx(1.0)
    assert imp.num_complete == 40 and imp.caveat is None
    text = report.format_importance(imp)
    assert text.splitlines()[1].split()[:2] == ["1.", "lr"]
    assert report.format_importance(imp, markdown=True).splitlines()[0] == (
        f"1. `lr`: {imp.importances['lr']:.3f}"
    )


def test_importance_caveat_with_few_trials_and_none_below_two():
    imp = report.param_importances(_lr_driven_study(6))
    assert imp.importances and "only 6 complete trials" in imp.caveat
    assert "Caveat: only 6 complete trials" in report.format_importance(imp)
    one = report.param_importances(_lr_driven_study(1))
    assert one.importances == {} and "at least 2 complete trials" in one.caveat


def test_default_evaluator_needs_no_extra_package(monkeypatch):
    import importlib.util

    has_sklearn = importlib.util.find_spec("sklearn") is not None
    assert (report._make_fanova() is None) == (not has_sklearn)
    monkeypatch.setattr(report, "_make_fanova", lambda: None)
    assert report.param_importances(_lr_driven_study(8)).evaluator == "PED-ANOVA"


class _FakeFanova(optuna.importance.BaseImportanceEvaluator):
    def __init__(self, fail: bool = False) -> None:
        self.fail = fail

    def evaluate(self, study, params=None, *, target=None):
        if self.fail:
            raise ValueError("parameters differ between trials")
        return {name: (1.0 if name == "dropout" else 0.0) for name in params}


def test_fanova_when_scikit_learn_is_there_and_fallback_when_it_fails(monkeypatch):
    monkeypatch.setattr(report, "_make_fanova", lambda: _FakeFanova())
    imp = report.param_importances(_lr_driven_study(30))
    assert imp.evaluator == "fANOVA" and list(imp.importances)[0] == "dropout"
    monkeypatch.setattr(report, "_make_fanova", lambda: _FakeFanova(fail=True))
    imp = report.param_importances(_lr_driven_study(30))
    assert imp.evaluator == "PED-ANOVA" and list(imp.importances)[0] == "lr"


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
    assert "Parameter importance (PED-ANOVA, 2 complete trials):" in text or "fANOVA" in text
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


# -- the run's storage, opened by another process --------------------------------------------------------

TINY_YAML = """\
data:
  csv: {csv}
  target: load
  window_size: 8
  split: {{train: 0.6, validation: 0.2, test: 0.2}}
search_space:
  hidden_size: {{type: int, low: 8, high: 16, step: 8}}
  num_layers: 1
  dropout: {{type: float, low: 0.0, high: 0.2}}
  lr: {{type: float, low: 1.0e-3, high: 1.0e-2, log: true}}
  batch_size: {{type: categorical, choices: [16, 32]}}
training:
  epochs: 1
study:
  n_trials: 2
  seed: 1
export:
  enabled: false
"""


def write_tiny_run_config(tmp_path: Path, n: int = 240) -> Path:
    t = np.arange(n)
    load = 100 + 10 * np.sin(2 * np.pi * t / 24) + np.random.default_rng(0).normal(0, 1, n)
    (tmp_path / "series.csv").write_text("load\n" + "\n".join(f"{v:.4f}" for v in load) + "\n")
    path = tmp_path / "tiny.yaml"
    path.write_text(TINY_YAML.format(csv=tmp_path / "series.csv"))
    return path


def test_run_storage_opens_from_another_process_and_no_plots_means_none(tmp_path):
    from lstm_tuner.config import load_config
    from lstm_tuner.run import RunOptions, run

    config = load_config(write_tiny_run_config(tmp_path))
    out = tmp_path / "runs" / "insight"
    result = run(config, RunOptions(study_name="insight", output_dir=str(out), plots=False))
    assert not (out / "plots").exists()
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
        [sys.executable, "-c", code, "insight", f"sqlite:///{out / 'study.db'}"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    seen = json.loads(proc.stdout.strip().splitlines()[-1])
    assert seen["n"] == 2 and seen["states"] == ["COMPLETE", "COMPLETE"]
    assert seen["best"] == result.best_trial
    assert set(seen["params"]) == {"hidden_size", "dropout", "lr", "batch_size"}
