"""``HyperParameters``: the KerasTuner interface over an ``optuna.Trial``.

During a search each call (``hp.Int(...)``) builds a :class:`~lstm_tuner.engine.search_space.ParamSpec`
(which checks its rules) and forwards it to the trial's ``suggest_*`` method, so the sampler (TPE by
default) chooses the value and the storage records it. After the search, and when a model is rebuilt, a
*frozen* instance (``HyperParameters.from_values``) answers the same calls from fixed values, so the
user's ``build_model(hp)`` runs unchanged.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import optuna

from lstm_tuner.engine.search_space import KERAS_LABELS, Condition, ParamSpec, make_param

_SAMPLINGS = ("linear", "log")


#: The trial's user attribute holding all its values, fixed ones included (Optuna's params hold only
#: those it sampled).
RECORDED_ATTR = "hyperparameters"


class HyperParameters:
    """Container of hyperparameters, with the KerasTuner methods.

    Args:
        trial: The Optuna trial that chooses the values (any ``optuna.trial.BaseTrial``, so
            ``optuna.trial.FixedTrial`` works). ``None`` makes a *recording* instance that returns each
            hyperparameter's default (used to discover the search space).

    As in KerasTuner, asking for a name that was already declared returns the value already drawn,
    whatever the new call's range; only a declaration that Optuna cannot record under the same name
    (another kind of distribution, another ``log``, other choices) is refused.

    Use :meth:`from_values` for a frozen instance holding fixed values.

    The tuner's ``hyperparameters=`` (KerasTuner's argument) arrive as ``declared``: those
    declarations win over the build function's for the same name and are all searched;
    ``tune_new_entries=False`` gives any other hyperparameter its default, and
    ``allow_new_entries=False`` refuses it.
    """

    def __init__(
        self,
        trial: optuna.trial.BaseTrial | None = None,
        *,
        declared: Sequence[ParamSpec] = (),
        tune_new_entries: bool = True,
        allow_new_entries: bool = True,
    ) -> None:
        self._trial = trial
        self._frozen = False
        self._space: dict[str, ParamSpec] = {}
        self._values: dict[str, Any] = {}
        self._conditions: list[Condition] = []
        self._declared = {spec.name: spec for spec in declared}
        self._tune_new_entries = tune_new_entries
        self._allow_new_entries = allow_new_entries
        for spec in declared:
            if not spec.conditions:
                self.declare(spec)

    @classmethod
    def from_values(cls, values: Mapping[str, Any]) -> HyperParameters:
        """A frozen, study-free instance that answers every call from ``values``.

        A name missing from ``values`` gets its declared default (``Fixed`` its value).
        """
        hp = cls(None)
        hp._frozen = True
        hp._values.update(values)
        return hp

    @classmethod
    def from_trial(cls, trial: optuna.trial.FrozenTrial) -> HyperParameters:
        """A frozen instance holding every value a finished trial used, fixed ones included, in
        declaration order (as the tuner recorded them; the trial's params for a trial recorded
        elsewhere)."""
        recorded = trial.user_attrs.get(RECORDED_ATTR)
        return cls.from_values(recorded if isinstance(recorded, dict) else trial.params)

    @property
    def frozen(self) -> bool:
        """True when the values are fixed (not chosen by a trial)."""
        return self._frozen

    @property
    def trial(self) -> optuna.trial.BaseTrial | None:
        """The Optuna trial behind this instance, if any."""
        return self._trial

    # -- KerasTuner API -------------------------------------------------------------------------

    def Int(  # noqa: N802 - KerasTuner's name
        self,
        name: str,
        min_value: int,
        max_value: int,
        step: int | None = None,
        sampling: str = "linear",
        default: int | None = None,
        parent_name: str | None = None,
        parent_values: Sequence[Any] | None = None,
    ) -> int | None:
        """An integer in ``[min_value, max_value]`` (both inclusive) on a grid of ``step``."""
        log = _is_log(f"hp.Int({name!r})", sampling)
        fields = dict(low=min_value, high=max_value, step=step, log=log, default=default)
        return self._declare("Int", name, "int", fields, parent_name, parent_values)

    def Float(  # noqa: N802 - KerasTuner's name
        self,
        name: str,
        min_value: float,
        max_value: float,
        step: float | None = None,
        sampling: str = "linear",
        default: float | None = None,
        parent_name: str | None = None,
        parent_values: Sequence[Any] | None = None,
    ) -> float | None:
        """A float in ``[min_value, max_value]``, continuous unless ``step`` is given."""
        log = _is_log(f"hp.Float({name!r})", sampling)
        fields = dict(low=min_value, high=max_value, step=step, log=log, default=default)
        return self._declare("Float", name, "float", fields, parent_name, parent_values)

    def Choice(  # noqa: N802 - KerasTuner's name
        self,
        name: str,
        values: Sequence[Any],
        ordered: bool | None = None,
        default: Any = None,
        parent_name: str | None = None,
        parent_values: Sequence[Any] | None = None,
    ) -> Any:
        """One of ``values`` (all numbers, all strings or all booleans, as in KerasTuner)."""
        fields = dict(choices=tuple(values), ordered=ordered, default=default)
        return self._declare("Choice", name, "categorical", fields, parent_name, parent_values)

    def Boolean(  # noqa: N802 - KerasTuner's name
        self,
        name: str,
        default: bool = False,
        parent_name: str | None = None,
        parent_values: Sequence[Any] | None = None,
    ) -> bool | None:
        """True or False."""
        fields = dict(choices=(False, True), default=bool(default))
        return self._declare("Boolean", name, "categorical", fields, parent_name, parent_values)

    def Fixed(  # noqa: N802 - KerasTuner's name
        self,
        name: str,
        value: Any,
        parent_name: str | None = None,
        parent_values: Sequence[Any] | None = None,
    ) -> Any:
        """A value that is not searched but recorded with the trial's hyperparameters."""
        return self._declare("Fixed", name, "fixed", {"value": value}, parent_name, parent_values)

    @contextlib.contextmanager
    def conditional_scope(self, parent_name: str, parent_values: Any) -> Iterator[None]:
        """Hyperparameters declared inside are active only when ``parent_name`` is in ``parent_values``.

        Inactive hyperparameters are not suggested to Optuna and return ``None``, as in KerasTuner.

        Raises:
            ValueError: if ``parent_name`` has not been declared yet.
        """
        if parent_name not in self._space:
            raise ValueError(
                f"conditional_scope: parent hyperparameter {parent_name!r} must be declared before "
                f"the scope; declared so far: {list(self._space)}"
            )
        if isinstance(parent_values, (str, bytes)) or not isinstance(parent_values, Sequence):
            parent_values = [parent_values]
        self._conditions.append(Condition(parent_name, tuple(parent_values)))
        try:
            yield
        finally:
            self._conditions.pop()

    def get(self, name: str) -> Any:
        """The current value of an active hyperparameter.

        Raises:
            ValueError: if ``name`` is declared but inactive (its condition does not hold).
            KeyError: if ``name`` was never declared.
        """
        if name in self._values:
            return self._values[name]
        if name in self._space:
            raise ValueError(f"hyperparameter {name!r} is currently inactive")
        raise KeyError(f"hyperparameter {name!r} is not defined; defined: {list(self._values)}")

    def __getitem__(self, name: str) -> Any:
        return self.get(name)

    def __contains__(self, name: object) -> bool:
        return name in self._values

    @property
    def values(self) -> dict[str, Any]:
        """``{name: value}`` of the active hyperparameters, in declaration order.

        The dict itself, as in KerasTuner: a value set in it before a build is what the build's
        declaration returns (``hp.values["model_type"] = "cnn"``).
        """
        return self._values

    @property
    def space(self) -> list[ParamSpec]:
        """The declarations seen so far, in order (each with the conditions it was declared in), as
        KerasTuner's classes (:class:`Int`, :class:`Float`, :class:`Choice`, :class:`Boolean`,
        :class:`Fixed`: each a :class:`~lstm_tuner.engine.search_space.ParamSpec`)."""
        return [_KERAS_CLASSES[spec.keras_kind].of(spec) for spec in self._space.values()]

    def copy(self) -> HyperParameters:
        """A frozen copy of the current values."""
        return HyperParameters.from_values(dict(self._values))

    def is_active(self, hyperparameter: str | ParamSpec) -> bool:
        """Whether the hyperparameter (a name or a declaration) is active: declared, and its
        conditions hold for the current values."""
        name = hyperparameter if isinstance(hyperparameter, str) else hyperparameter.name
        spec = self._space.get(name)
        return spec is not None and self._active(spec)

    def ensure_active_values(self) -> None:
        """Gives every active declared hyperparameter without a value its default (KerasTuner)."""
        for spec in self._space.values():
            if spec.name not in self._values and self._active(spec):
                self._values[spec.name] = spec.initial

    def merge(self, hps: HyperParameters | Sequence[ParamSpec], overwrite: bool = True) -> None:
        """Adds another instance's declarations (and values); an existing name is replaced when
        ``overwrite``, kept otherwise, as in KerasTuner."""
        specs = hps.space if isinstance(hps, HyperParameters) else list(hps)
        values = hps.values if isinstance(hps, HyperParameters) else {}
        for spec in specs:
            if spec.name in self._space and not overwrite:
                continue
            self._space[spec.name] = spec
            if spec.name in values:
                self._values[spec.name] = values[spec.name]
            elif overwrite:
                self._values.pop(spec.name, None)

    def get_config(self) -> dict[str, Any]:
        """The declarations and values as plain data (:meth:`from_config` reads it back)."""
        return {
            "space": [
                {
                    **dataclasses.asdict(spec),
                    "conditions": [
                        {"parent": c.parent, "values": list(c.values)} for c in spec.conditions
                    ],
                }
                for spec in self._space.values()
            ],
            "values": dict(self._values),
        }

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> HyperParameters:
        """A recording instance with the declarations and values of :meth:`get_config`."""
        hp = cls(None)
        for raw in config.get("space", []):
            fields = dict(raw)
            fields["choices"] = tuple(fields.get("choices") or ())
            fields["conditions"] = tuple(
                Condition(c["parent"], tuple(c["values"])) for c in fields.get("conditions") or ()
            )
            spec = ParamSpec(**fields)
            hp._space[spec.name] = spec
        hp._values.update(config.get("values") or {})
        return hp

    def __getattr__(self, name: str) -> Any:
        if name in ("name_scope", "to_proto", "from_proto"):
            raise AttributeError(
                f"HyperParameters.{name}: KerasTuner's protobuf and name scopes have no Optuna "
                "counterpart; use get_config()/from_config() and plain names"
            )
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __repr__(self) -> str:
        return f"HyperParameters({self.values!r})"

    # -- declaring --------------------------------------------------------------------------------

    def declare(self, spec: ParamSpec) -> Any:
        """Declares ``spec`` (in the current conditional scope) and returns its value.

        Raises:
            ValueError: ``spec.name`` was declared before as something Optuna cannot record under
                the same name.
        """
        if self._conditions:
            spec = dataclasses.replace(spec, conditions=tuple(self._conditions))
        if spec.name in self._declared:
            spec = dataclasses.replace(self._declared[spec.name], conditions=spec.conditions)
        elif self._declared or not self._tune_new_entries or not self._allow_new_entries:
            if not self._allow_new_entries:
                raise ValueError(
                    f"hyperparameter {spec.name!r} is not among the tuner's hyperparameters "
                    f"{list(self._declared)} and allow_new_entries=False"
                )
            if not self._tune_new_entries and spec.type != "fixed":
                spec = ParamSpec(spec.name, "fixed", value=spec.initial, conditions=spec.conditions)
        previous = self._space.get(spec.name)
        if previous is None:
            self._space[spec.name] = spec
        else:
            _check_compatible(previous, spec)
        if not self._active(spec):
            return None
        if spec.name in self._values:
            return self._values[spec.name]
        if spec.type == "fixed":
            value = spec.value
        elif self._frozen:
            value = spec.initial
        elif self._trial is None:
            value = spec.initial
        else:
            value = _suggest(self._trial, spec)
        self._values[spec.name] = value
        return value

    def _declare(
        self,
        kind: str,
        name: str,
        ptype: str,
        fields: dict[str, Any],
        parent_name: str | None,
        parent_values: Sequence[Any] | None,
    ) -> Any:
        spec = make_param(f"hp.{kind}({name!r})", KERAS_LABELS, name, ptype, **fields)
        if parent_name is None:
            return self.declare(spec)
        with self.conditional_scope(parent_name, parent_values):
            return self.declare(spec)

    def _active(self, spec: ParamSpec) -> bool:
        return all(self._values.get(c.parent) in c.values for c in spec.conditions)


def _suggest(trial: optuna.trial.BaseTrial, spec: ParamSpec) -> Any:
    if spec.geometric:
        return trial.suggest_categorical(spec.name, spec.geometric_values())
    if spec.type == "int":
        step = int(spec.step)
        return trial.suggest_int(spec.name, int(spec.low), int(spec.high), step=step, log=spec.log)
    if spec.type == "float":
        low, high = float(spec.low), float(spec.high)
        return trial.suggest_float(spec.name, low, high, step=spec.step, log=spec.log)
    return trial.suggest_categorical(spec.name, list(spec.choices))


def _check_compatible(previous: ParamSpec, new: ParamSpec) -> None:
    """Refuses what Optuna cannot record under one name: another kind, ``log`` or choices."""
    old_dist, new_dist = previous.distribution(), new.distribution()
    if (old_dist is None) != (new_dist is None):
        problem = "a fixed value and a searched one"
    elif old_dist is None:
        return
    else:
        try:
            optuna.distributions.check_distribution_compatibility(old_dist, new_dist)
            return
        except ValueError as e:
            problem = str(e).rstrip(".")
    raise ValueError(
        f"hyperparameter {new.name!r} is declared as {previous.keras_kind} "
        f"{previous.describe()} and again as {new.keras_kind} {new.describe()}: {problem} "
        "(Optuna records one distribution per name in a study); give the second one its own name"
    )


def _is_log(where: str, sampling: str | None) -> bool:
    if sampling == "reverse_log":
        raise ValueError(
            f"{where}: sampling='reverse_log' is not supported (Optuna has no such distribution); "
            "use 'linear' or 'log'"
        )
    if sampling is None:  # KerasTuner before 1.1 spelled linear sampling None
        return False
    if sampling not in _SAMPLINGS:
        raise ValueError(f"{where}: `sampling` must be one of {list(_SAMPLINGS)}, got {sampling!r}")
    return sampling == "log"


class _KerasName(ParamSpec):
    @classmethod
    def of(cls, spec: ParamSpec) -> ParamSpec:
        return cls(**{f.name: getattr(spec, f.name) for f in dataclasses.fields(ParamSpec)})


@dataclasses.dataclass(frozen=True)
class Int(_KerasName):
    """KerasTuner's ``Int``: an int :class:`~lstm_tuner.engine.search_space.ParamSpec`."""


@dataclasses.dataclass(frozen=True)
class Float(_KerasName):
    """KerasTuner's ``Float``: a float :class:`~lstm_tuner.engine.search_space.ParamSpec`."""


@dataclasses.dataclass(frozen=True)
class Choice(_KerasName):
    """KerasTuner's ``Choice``: a categorical :class:`~lstm_tuner.engine.search_space.ParamSpec`."""


@dataclasses.dataclass(frozen=True)
class Boolean(_KerasName):
    """KerasTuner's ``Boolean``: a categorical ``[False, True]``."""


@dataclasses.dataclass(frozen=True)
class Fixed(_KerasName):
    """KerasTuner's ``Fixed``: a fixed :class:`~lstm_tuner.engine.search_space.ParamSpec`."""


_KERAS_CLASSES = {cls.__name__: cls for cls in (Int, Float, Choice, Boolean, Fixed)}
