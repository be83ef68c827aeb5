"""Analysis of hand-made studies (no training): edge-of-space warnings and parameter importance."""

from __future__ import annotations

import numpy as np
import optuna
import pytest
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution
from optuna.trial import TrialState, create_trial

from lstm_tuner.engine import analysis
from lstm_tuner.engine import results as report
from lstm_tuner.lstm.space import DEFAULT_SEARCH_SPACE

optuna.logging.set_verbosity(optuna.logging.WARNING)

#: The spec's space as Optuna distributions, taken from the product's own definition.
SPACE = {spec.name: spec.distribution() for spec in DEFAULT_SEARCH_SPACE}
MIDDLE = {"hidden_size": 128, "num_layers": 2, "dropout": 0.2, "lr": 7e-4, "batch_size": 64}


def _study(*trials: tuple[dict, float], space: dict | None = None, direction: str = "minimize"):
    """A study of COMPLETE trials ``(params, value)`` over ``space`` (default: the spec's)."""
    study = optuna.create_study(direction=direction)
    for params, value in trials:
        dists = {k: v for k, v in (space or SPACE).items() if k in params}
        study.add_trial(create_trial(params=params, distributions=dists, value=value))
    return study


def _best_is(params: dict, space: dict | None = None) -> list[analysis.EdgeWarning]:
    """Edge warnings of a study whose best trial has ``params`` (a worse one sits in the middle)."""
    worse = {k: v for k, v in MIDDLE.items() if k in params}
    return analysis.edge_warnings(_study((params, 0.1), (worse, 0.9), space=space))


def _only(warnings: list[analysis.EdgeWarning], name: str) -> list[analysis.EdgeWarning]:
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
    assert analysis.edge_warnings(study) == []


def test_long_int_ranges_and_continuous_floats_use_a_tenth_of_the_range():
    space = {"units": IntDistribution(8, 512), "momentum": FloatDistribution(0.0, 1.0)}
    (w,) = analysis.edge_warnings(_study(({"units": 470}, 0.1), space=space))
    assert w.name == "units" and w.edge == "high" and "expanding the search space" in w.message
    assert analysis.edge_warnings(_study(({"units": 400}, 0.1), space=space)) == []
    (w,) = analysis.edge_warnings(_study(({"momentum": 0.05}, 0.1), space=space))
    assert w.edge == "low" and "may lie below it" in w.message


def test_categorical_only_when_ordered_numeric():
    (w,) = _only(_best_is({**MIDDLE, "batch_size": 128}), "batch_size")
    assert w.edge == "high" and "choices [32, 64, 128]" in w.message
    assert _only(_best_is({**MIDDLE, "batch_size": 64}), "batch_size") == []
    words = {"activation": CategoricalDistribution(["relu", "tanh"])}
    assert analysis.edge_warnings(_study(({"activation": "tanh"}, 0.1), space=words)) == []
    flags = {"bidirectional": CategoricalDistribution([False, True])}
    assert analysis.edge_warnings(_study(({"bidirectional": True}, 0.1), space=flags)) == []


def test_a_parameter_fixed_to_one_value_has_no_edges():
    fixed = {
        "hidden_size": IntDistribution(128, 128),
        "num_layers": CategoricalDistribution([2]),
        "dropout": FloatDistribution(0.4, 0.4),
    }
    assert (
        analysis.edge_warnings(
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
    assert analysis.edge_warnings(study) == []


def test_no_complete_trial_no_warning_and_maximize_uses_the_highest_value():
    study = optuna.create_study()
    study.add_trial(create_trial(params={}, distributions={}, state=TrialState.FAIL))
    assert analysis.edge_warnings(study) == []
    maximize = _study(
        ({**MIDDLE, "num_layers": 3}, 0.9), ({**MIDDLE, "num_layers": 1}, 0.1), direction="maximize"
    )
    (w,) = analysis.edge_warnings(maximize)
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
    imp = analysis.param_importances(_lr_driven_study(40))
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
    imp = analysis.param_importances(_lr_driven_study(6))
    assert imp.importances and "only 6 complete trials" in imp.caveat
    assert "Caveat: only 6 complete trials" in report.format_importance(imp)
    one = analysis.param_importances(_lr_driven_study(1))
    assert one.importances == {} and "at least 2 complete trials" in one.caveat


def test_default_evaluator_needs_no_extra_package(monkeypatch):
    import importlib.util

    has_sklearn = importlib.util.find_spec("sklearn") is not None
    assert (analysis._make_fanova() is None) == (not has_sklearn)
    monkeypatch.setattr(analysis, "_make_fanova", lambda: None)
    assert analysis.param_importances(_lr_driven_study(8)).evaluator == "PED-ANOVA"


class _FakeFanova(optuna.importance.BaseImportanceEvaluator):
    def __init__(self, fail: bool = False) -> None:
        self.fail = fail

    def evaluate(self, study, params=None, *, target=None):
        if self.fail:
            raise ValueError("parameters differ between trials")
        return {name: (1.0 if name == "dropout" else 0.0) for name in params}


def test_fanova_when_scikit_learn_is_there_and_fallback_when_it_fails(monkeypatch):
    monkeypatch.setattr(analysis, "_make_fanova", lambda: _FakeFanova())
    imp = analysis.param_importances(_lr_driven_study(30))
    assert imp.evaluator == "fANOVA" and list(imp.importances)[0] == "dropout"
    monkeypatch.setattr(analysis, "_make_fanova", lambda: _FakeFanova(fail=True))
    imp = analysis.param_importances(_lr_driven_study(30))
    assert imp.evaluator == "PED-ANOVA" and list(imp.importances)[0] == "lr"
