from __future__ import annotations

import optuna
import pytest
from optuna.trial import FixedTrial

from lstm_tuner.engine.hyperparameters import HyperParameters


def _study() -> optuna.Study:
    return optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))


def test_int_float_choice_boolean_fixed_with_fixed_trial():
    hp = HyperParameters(
        FixedTrial({"units": 64, "rate": 0.25, "act": "tanh", "flag": True, "lr": 1e-3})
    )
    assert hp.Int("units", 32, 128, step=32) == 64
    assert hp.Float("rate", 0.0, 0.5) == 0.25
    assert hp.Choice("act", ["relu", "tanh"]) == "tanh"
    assert hp.Boolean("flag") is True
    assert hp.Fixed("layers", 2) == 2
    assert hp.Float("lr", 1e-4, 1e-2, sampling="log") == 1e-3
    assert hp.values == {
        "units": 64,
        "rate": 0.25,
        "act": "tanh",
        "flag": True,
        "layers": 2,
        "lr": 1e-3,
    }
    assert hp.get("units") == 64 and hp["rate"] == 0.25
    assert "act" in hp and "missing" not in hp
    with pytest.raises(KeyError, match="missing"):
        hp.get("missing")


def test_live_study_records_distributions_and_log_sampling():
    study = _study()
    trial = study.ask()
    hp = HyperParameters(trial)
    units = hp.Int("units", 64, 256, step=64)
    lr = hp.Float("lr", 1e-4, 5e-3, sampling="log")
    choice = hp.Choice("batch_size", [32, 64, 128])
    flag = hp.Boolean("flag")
    assert hp.Fixed("layers", 2) == 2
    assert units in (64, 128, 192, 256)
    assert 1e-4 <= lr <= 5e-3
    assert choice in (32, 64, 128)
    assert isinstance(flag, bool)
    dists = trial.distributions
    assert dists["units"] == optuna.distributions.IntDistribution(64, 256, step=64)
    assert dists["lr"] == optuna.distributions.FloatDistribution(1e-4, 5e-3, log=True)
    assert dists["batch_size"] == optuna.distributions.CategoricalDistribution([32, 64, 128])
    assert "layers" not in trial.params  # a fixed value is not searched, but it is recorded
    assert hp.values == {**trial.params, "layers": 2}
    assert hp["units"] == units and "lr" in hp and hp.get("flag") is flag


def test_a_name_asked_twice_returns_the_value_already_drawn_as_kerastuner_does():
    study = _study()
    trial = study.ask()
    hp = HyperParameters(trial)
    first = hp.Float("rate", 0.0, 1.0)
    assert hp.Float("rate", 0.0, 1.0) == first
    # another range of the same kind: the value already drawn, as in KerasTuner (helper functions)
    assert hp.Float("rate", 0.5, 0.9) == first
    assert trial.distributions["rate"] == optuna.distributions.FloatDistribution(0.0, 1.0)
    # what Optuna cannot record under one name is refused, naming both declarations
    with pytest.raises(
        ValueError, match=r"'rate' is declared as Float float 0\.\.1 and again as Int"
    ):
        hp.Int("rate", 0, 1)
    with pytest.raises(ValueError, match="log"):
        hp.Float("rate", 0.1, 1.0, sampling="log")
    hp.Choice("act", ["relu", "tanh"])
    with pytest.raises(ValueError, match="dynamic value space"):
        hp.Choice("act", ["relu", "gelu"])
    assert hp.values == {"rate": first, "act": hp["act"]}


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda hp: hp.Int("a", 5, 1), "min_value <= max_value"),
        (lambda hp: hp.Int("a", 1, 5, step=0), "step"),
        (
            lambda hp: hp.Int("a", 0, 5, sampling="log"),
            r"min_value: must be > 0 when sampling='log'",
        ),
        (lambda hp: hp.Float("a", 0.0, 1.0, sampling="reverse_log"), "reverse_log"),
        (lambda hp: hp.Float("a", 1.0, 2.0, sampling="cubic"), "sampling"),
        (lambda hp: hp.Float("a", 0.0, 1.0, default=2.0), "default"),
        (lambda hp: hp.Choice("a", []), "non-empty"),
        (lambda hp: hp.Choice("a", [1, 1]), "unique"),
        (lambda hp: hp.Float("a", 0.1, 1.0, step=0.1, sampling="log"), "must be > 1 with sampling"),
        (lambda hp: hp.Choice("a", [1, "x"]), "one type"),
    ],
)
def test_invalid_declarations_raise_clear_errors(call, match):
    with pytest.raises(ValueError, match=match):
        call(HyperParameters(_study().ask()))


def test_conditional_scope_activates_children_only_for_parent_values():
    hp = HyperParameters(FixedTrial({"model": "lstm", "units": 32}))
    model_type = hp.Choice("model", ["lstm", "dense"])
    with hp.conditional_scope("model", ["lstm"]):
        units = hp.Int("units", 16, 64, step=16)
    with hp.conditional_scope("model", "dense"):
        width = hp.Int("width", 8, 16)
    assert model_type == "lstm" and units == 32 and width is None
    assert hp.values == {"model": "lstm", "units": 32}
    with pytest.raises(ValueError, match="'width' is currently inactive"):
        hp.get("width")  # declared, but its condition does not hold (KerasTuner)
    with pytest.raises(ValueError, match="must be declared before"):
        with hp.conditional_scope("unknown", [1]):
            pass


def test_conditional_parameters_are_not_suggested_to_optuna_when_inactive():
    study = _study()
    study.enqueue_trial({"model": "dense"})
    trial = study.ask()
    hp = HyperParameters(trial)
    hp.Choice("model", ["lstm", "dense"])
    hp.Int("units", 16, 64, parent_name="model", parent_values=["lstm"])
    assert "units" not in trial.params and "units" not in hp.values


def test_frozen_from_values_answers_calls_and_defaults():
    hp = HyperParameters.from_values({"units": 128, "lr": 0.01})
    assert hp.frozen and hp.trial is None
    assert hp.get("units") == 128 and "lr" in hp
    assert hp.Int("units", 64, 256, step=64) == 128
    assert hp.Float("dropout", 0.0, 0.4, default=0.2) == 0.2  # missing -> default
    assert hp.Fixed("layers", 3) == 3
    assert hp.values == {"units": 128, "lr": 0.01, "dropout": 0.2, "layers": 3}


def test_recording_instance_returns_defaults_and_collects_space():
    hp = HyperParameters()
    assert hp.Int("units", 64, 256, step=64) == 64
    assert hp.Choice("batch_size", [32, 64], default=64) == 64
    assert [d.name for d in hp.space] == ["units", "batch_size"]
    assert hp.space[0].keras_config()["step"] == 64 and hp.space[0].keras_kind == "Int"


def test_log_sampling_with_a_step_is_a_geometric_grid_as_in_kerastuner():
    study = _study()
    seen = set()
    for _ in range(12):
        hp = HyperParameters(study.ask())
        seen.add(hp.Int("batch_size", 2, 32, step=2, sampling="log"))
    assert seen <= {2, 4, 8, 16, 32} and len(seen) > 2
    assert HyperParameters().Float("lr", 0.001, 10, step=10, sampling="log") == 0.001
    spec = HyperParameters().space  # nothing declared on a fresh instance
    assert spec == []


def test_values_is_the_live_dict_and_space_holds_kerastuner_classes():
    hp = HyperParameters()
    hp.values["units"] = 48  # set before the build: the declaration returns it (KerasTuner)
    assert hp.Int("units", 8, 64, step=8) == 48
    hp.Boolean("flag")
    assert [type(p).__name__ for p in hp.space] == ["Int", "Boolean"]
