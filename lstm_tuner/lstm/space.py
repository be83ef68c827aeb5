"""The stacked-LSTM model's hyperparameters: their names, what each value must be, the default space.

The spec's names are the names everywhere: YAML key, Optuna parameter, result table, SavedModel
metadata. No TensorFlow here, so the config reads them before the slow import.
"""

from __future__ import annotations

from lstm_tuner.engine.search_space import ParamSpec

#: The names the stacked-LSTM model understands, in the order the spec lists them.
LSTM_PARAM_NAMES: tuple[str, ...] = ("hidden_size", "num_layers", "dropout", "lr", "batch_size")
#: What the stacked-LSTM model needs of each value: an integer (int) or any number (float).
LSTM_PARAM_KINDS: dict[str, type] = {
    "hidden_size": int,
    "num_layers": int,
    "dropout": float,
    "lr": float,
    "batch_size": int,
}
#: Searched as a categorical hyperparameter when ``data.target_transform`` lists both transforms.
TARGET_TRANSFORM = "target_transform"


def _default_space() -> tuple[ParamSpec, ...]:
    return (
        ParamSpec("hidden_size", "int", low=64, high=256, step=64),
        ParamSpec("num_layers", "int", low=1, high=3, step=1),
        ParamSpec("dropout", "float", low=0.0, high=0.4),
        ParamSpec("lr", "float", low=1e-4, high=5e-3, log=True),
        ParamSpec("batch_size", "categorical", choices=(32, 64, 128)),
    )


#: The spec's search space (``hpo_quick_reference.md``).
DEFAULT_SEARCH_SPACE: tuple[ParamSpec, ...] = _default_space()
