"""``HyperParameters``: the KerasTuner interface over an ``optuna.Trial``.

During a search each call (``hp.Int(...)``) is forwarded to the trial's ``suggest_*`` method, so the
sampler (TPE by default) chooses the value and the storage records it. After the search, and when a model
is rebuilt, a *frozen* instance (``HyperParameters.from_values``) answers the same calls from fixed values,
so the user's ``build_model(hp)`` runs unchanged.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import optuna

_SAMPLINGS = ("linear", "log")


@dataclasses.dataclass(frozen=True)
class _Condition:
    parent: str
    values: tuple[Any, ...]


@dataclasses.dataclass(frozen=True)
class HyperParameter:
    """The declaration of one hyperparameter, as KerasTuner's ``hp.get_config`` would describe it."""

    name: str
    kind: str  # Int, Float, Choice, Boolean, Fixed
    min_value: Any = None
    max_value: Any = None
    step: Any = None
    sampling: str = "linear"
    values: tuple[Any, ...] = ()
    ordered: bool | None = None
    default: Any = None
    conditions: tuple[_Condition, ...] = ()

    def describe(self) -> dict[str, Any]:
        """The KerasTuner-style config dict used by ``search_space_summary``."""
        out: dict[str, Any] = {"default": self.default, "conditions": list(self.conditions)}
        if self.kind in ("Int", "Float"):
            out.update(
                min_value=self.min_value,
                max_value=self.max_value,
                step=self.step,
                sampling=self.sampling,
            )
        elif self.kind == "Choice":
            out.update(values=list(self.values), ordered=self.ordered)
        elif self.kind == "Fixed":
            out["value"] = self.default
        return out

    def without_conditions(self) -> HyperParameter:
        return dataclasses.replace(self, conditions=())


class HyperParameters:
    """Container of hyperparameters, with the KerasTuner methods.

    Args:
        trial: The Optuna trial that chooses the values (any ``optuna.trial.BaseTrial``, so
            ``optuna.trial.FixedTrial`` works). ``None`` makes a *recording* instance that returns each
            hyperparameter's default (used to discover the search space).

    Use :meth:`from_values` for a frozen instance holding fixed values.
    """

    def __init__(self, trial: optuna.trial.BaseTrial | None = None) -> None:
        self._trial = trial
        self._fixed_values: dict[str, Any] | None = None
        self._space: dict[str, HyperParameter] = {}
        self._values: dict[str, Any] = {}
        self._conditions: list[_Condition] = []

    # -- construction -------------------------------------------------------------------------

    @classmethod
    def from_values(cls, values: Mapping[str, Any]) -> HyperParameters:
        """A frozen, study-free instance that answers every call from ``values``.

        A name missing from ``values`` gets its declared default (``Fixed`` its value).
        """
        hp = cls(None)
        hp._fixed_values = dict(values)
        return hp

    @property
    def frozen(self) -> bool:
        """True when the values are fixed (not chosen by a trial)."""
        return self._fixed_values is not None

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
        _check_sampling(name, sampling)
        for label, val in (("min_value", min_value), ("max_value", max_value)):
            if isinstance(val, bool) or not isinstance(val, int):
                raise ValueError(f"hp.Int({name!r}): `{label}` must be an int, but got {val!r}")
        if min_value > max_value:
            raise ValueError(
                f"hp.Int({name!r}): `min_value <= max_value` must hold, but got "
                f"(min_value={min_value}, max_value={max_value})"
            )
        step = 1 if step is None else step
        if isinstance(step, bool) or not isinstance(step, int) or step <= 0:
            raise ValueError(f"hp.Int({name!r}): `step` must be a positive int, but got {step!r}")
        if sampling == "log":
            if min_value <= 0:
                raise ValueError(
                    f"hp.Int({name!r}): sampling='log' needs `min_value > 0`, but got {min_value}"
                )
            if step != 1:
                raise ValueError(
                    f"hp.Int({name!r}): Optuna cannot combine sampling='log' with step={step}; "
                    "use step=1"
                )
        if default is not None and not (min_value <= default <= max_value):
            raise ValueError(
                f"hp.Int({name!r}): `default` must lie in [{min_value}, {max_value}], but got {default}"
            )
        decl = HyperParameter(
            name,
            "Int",
            min_value,
            max_value,
            step,
            sampling,
            default=min_value if default is None else default,
        )
        with self._maybe_conditional(parent_name, parent_values):
            return self._retrieve(
                decl,
                lambda t: t.suggest_int(
                    name, min_value, max_value, step=step, log=sampling == "log"
                ),
            )

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
        _check_sampling(name, sampling)
        for label, val in (("min_value", min_value), ("max_value", max_value)):
            if isinstance(val, bool) or not isinstance(val, (int, float)) or not math.isfinite(val):
                raise ValueError(
                    f"hp.Float({name!r}): `{label}` must be a finite number, but got {val!r}"
                )
        if min_value > max_value:
            raise ValueError(
                f"hp.Float({name!r}): `min_value <= max_value` must hold, but got "
                f"(min_value={min_value}, max_value={max_value})"
            )
        if step is not None and (isinstance(step, bool) or step <= 0):
            raise ValueError(f"hp.Float({name!r}): `step` must be > 0, but got {step!r}")
        if sampling == "log":
            if min_value <= 0:
                raise ValueError(
                    f"hp.Float({name!r}): sampling='log' needs `min_value > 0`, but got {min_value}"
                )
            if step is not None:
                raise ValueError(
                    f"hp.Float({name!r}): Optuna cannot combine sampling='log' with step={step}"
                )
        if default is not None and not (min_value <= default <= max_value):
            raise ValueError(
                f"hp.Float({name!r}): `default` must lie in [{min_value}, {max_value}], "
                f"but got {default}"
            )
        decl = HyperParameter(
            name,
            "Float",
            float(min_value),
            float(max_value),
            step,
            sampling,
            default=float(min_value) if default is None else default,
        )
        with self._maybe_conditional(parent_name, parent_values):
            return self._retrieve(
                decl,
                lambda t: t.suggest_float(
                    name, float(min_value), float(max_value), step=step, log=sampling == "log"
                ),
            )

    def Choice(  # noqa: N802 - KerasTuner's name
        self,
        name: str,
        values: Sequence[Any],
        ordered: bool | None = None,
        default: Any = None,
        parent_name: str | None = None,
        parent_values: Sequence[Any] | None = None,
    ) -> Any:
        """One of ``values`` (numbers, strings or booleans, all of one type as in KerasTuner)."""
        values = tuple(values)
        if not values:
            raise ValueError(f"hp.Choice({name!r}): `values` must be non-empty, but got []")
        kinds = {type(v) for v in values}
        if not kinds <= {int, float, str, bool} or len(kinds) > 1 and kinds != {int, float}:
            raise ValueError(
                f"hp.Choice({name!r}): `values` must all be int, float, str or bool (one type), "
                f"but got {list(values)}"
            )
        if len(set(values)) != len(values):
            raise ValueError(
                f"hp.Choice({name!r}): `values` must be unique, but got {list(values)}"
            )
        if default is not None and default not in values:
            raise ValueError(
                f"hp.Choice({name!r}): `default` must be one of {list(values)}, but got {default!r}"
            )
        if ordered is None:
            ordered = kinds <= {int, float}
        decl = HyperParameter(
            name,
            "Choice",
            values=values,
            ordered=ordered,
            default=values[0] if default is None else default,
        )
        with self._maybe_conditional(parent_name, parent_values):
            return self._retrieve(decl, lambda t: t.suggest_categorical(name, list(values)))

    def Boolean(  # noqa: N802 - KerasTuner's name
        self,
        name: str,
        default: bool = False,
        parent_name: str | None = None,
        parent_values: Sequence[Any] | None = None,
    ) -> bool | None:
        """True or False."""
        decl = HyperParameter(name, "Boolean", values=(False, True), default=bool(default))
        with self._maybe_conditional(parent_name, parent_values):
            return self._retrieve(decl, lambda t: t.suggest_categorical(name, [False, True]))

    def Fixed(  # noqa: N802 - KerasTuner's name
        self,
        name: str,
        value: Any,
        parent_name: str | None = None,
        parent_values: Sequence[Any] | None = None,
    ) -> Any:
        """A value that is not searched but recorded with the trial's hyperparameters."""
        decl = HyperParameter(name, "Fixed", default=value)
        with self._maybe_conditional(parent_name, parent_values):
            return self._retrieve(decl, None)

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
        self._conditions.append(_Condition(parent_name, tuple(parent_values)))
        try:
            yield
        finally:
            self._conditions.pop()

    def get(self, name: str) -> Any:
        """The current value of an active hyperparameter.

        Raises:
            KeyError: if ``name`` was never declared (or is inactive).
        """
        values = self.values
        if name in values:
            return values[name]
        if name in self._space:
            return None  # declared but inactive, as KerasTuner
        raise KeyError(f"hyperparameter {name!r} is not defined; defined: {list(values)}")

    def __getitem__(self, name: str) -> Any:
        return self.get(name)

    def __contains__(self, name: object) -> bool:
        return name in self.values

    @property
    def values(self) -> dict[str, Any]:
        """``{name: value}`` of the active hyperparameters, in declaration order."""
        if self._fixed_values is not None:
            return {**self._fixed_values, **self._values}
        return dict(self._values)

    @property
    def space(self) -> list[HyperParameter]:
        """The declarations seen so far, in order."""
        return list(self._space.values())

    def copy(self) -> HyperParameters:
        """A frozen copy of the current values."""
        return HyperParameters.from_values(self.values)

    def __repr__(self) -> str:
        return f"HyperParameters({self.values!r})"

    # -- internals --------------------------------------------------------------------------------

    @contextlib.contextmanager
    def _maybe_conditional(
        self, parent_name: str | None, parent_values: Sequence[Any] | None
    ) -> Iterator[None]:
        if parent_name is None:
            yield
            return
        with self.conditional_scope(parent_name, parent_values):
            yield

    def _active(self) -> bool:
        for cond in self._conditions:
            if self.get(cond.parent) not in cond.values:
                return False
        return True

    def _register(self, decl: HyperParameter) -> None:
        decl = dataclasses.replace(decl, conditions=tuple(self._conditions))
        previous = self._space.get(decl.name)
        if previous is None:
            self._space[decl.name] = decl
            return
        if previous.without_conditions() != decl.without_conditions():
            raise ValueError(
                f"hyperparameter {decl.name!r} is already defined as {previous.kind} "
                f"{_short(previous)}; it cannot be redefined as {decl.kind} {_short(decl)}"
            )

    def _retrieve(self, decl: HyperParameter, suggest: Any) -> Any:
        self._register(decl)
        if not self._active():
            return None
        name = decl.name
        if name in self._values:
            return self._values[name]
        if decl.kind == "Fixed":
            value = decl.default
        elif self._fixed_values is not None:
            value = self._fixed_values.get(name, decl.default)
        elif self._trial is None:
            value = decl.default
        else:
            value = suggest(self._trial)
        self._values[name] = value
        return value


def _check_sampling(name: str, sampling: str) -> None:
    if sampling == "reverse_log":
        raise ValueError(
            f"hp({name!r}): sampling='reverse_log' is not supported (Optuna has no such "
            "distribution); use 'linear' or 'log'"
        )
    if sampling not in _SAMPLINGS:
        raise ValueError(
            f"hp({name!r}): `sampling` must be one of {list(_SAMPLINGS)}, but got {sampling!r}"
        )


def _short(decl: HyperParameter) -> str:
    info = decl.describe()
    info.pop("conditions", None)
    return str(info)
