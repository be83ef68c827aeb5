"""PNG plots of a search, written to ``<run directory>/plots/``.

matplotlib is optional (the ``lstm_tuner[plots]`` extra) and imported only inside the functions that draw.
Figures are drawn with matplotlib's object API (``matplotlib.figure.Figure``) on the Agg canvas, never
through ``pyplot``: no window opens, no display is needed, and a caller's own pyplot backend (a notebook's,
say) is left alone.

Files:

    optimization_history.png   each trial's value and the best so far
    param_importances.png      the ranked importances of :func:`lstm_tuner.engine.analysis.param_importances`
    slice.png                  the value against each hyperparameter
    best_trial_loss.png        the best trial's training and validation loss per epoch

and, drawn by :mod:`lstm_tuner.reporting.model_plots`, ``retrained_loss.png``, ``test_predictions.png`` and
``error_per_step.png``.
"""

from __future__ import annotations

import math
import os
import textwrap
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import optuna
from absl import logging
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution
from optuna.trial import FrozenTrial, TrialState

from lstm_tuner.engine import analysis
from lstm_tuner.storage.study import best_trials

OPTIMIZATION_HISTORY = "optimization_history.png"
PARAM_IMPORTANCES = "param_importances.png"
SLICE = "slice.png"
BEST_TRIAL_LOSS = "best_trial_loss.png"
RETRAINED_LOSS = "retrained_loss.png"
TEST_PREDICTIONS = "test_predictions.png"
ERROR_PER_STEP = "error_per_step.png"
ALL = (
    OPTIMIZATION_HISTORY,
    PARAM_IMPORTANCES,
    SLICE,
    BEST_TRIAL_LOSS,
    RETRAINED_LOSS,
    TEST_PREDICTIONS,
    ERROR_PER_STEP,
)

_DPI = 100


def is_available() -> bool:
    """Whether matplotlib can be imported."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


def check_available() -> bool:
    """:func:`is_available`, logging one warning (with the fix) when it is not."""
    if is_available():
        return True
    logging.warning(
        "Plots skipped: matplotlib is not installed; install it with pip install "
        "'lstm_tuner[plots]' (or pass --no_plots to silence this)"
    )
    return False


def figure(width_in: float = 8.0, height_in: float = 4.5) -> Any:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width_in, height_in), dpi=_DPI)
    FigureCanvasAgg(fig)
    return fig


def save(fig: Any, path: str, *, tight: bool = True) -> str:
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    if tight:
        fig.tight_layout()
    tmp = f"{path}.tmp-{os.getpid()}.png"
    fig.savefig(tmp, format="png", dpi=_DPI)
    os.replace(tmp, path)  # a reader never sees half an image
    return path


def _positive_span_is_wide(values: Sequence[float]) -> bool:
    """Whether values are all positive and span more than two decades (then a log axis reads better)."""
    finite = [v for v in values if math.isfinite(v)]
    return bool(finite) and min(finite) > 0 and max(finite) / min(finite) > 100


# -- search plots ------------------------------------------------------------------------------------


def _optuna_plot(draw: Callable[[], Any], path: str, size: tuple[float, float]) -> str:
    """Saves a figure drawn by ``optuna.visualization.matplotlib`` without restyling the process.

    Optuna's matplotlib plots call ``plt.style.use("ggplot")``, which would restyle every later figure
    of the process (ours and the caller's); ``rc_context`` restores the settings, and the figure is
    closed (Optuna draws through pyplot, which keeps every figure until closed).
    """
    import warnings

    import matplotlib
    import matplotlib.pyplot as plt

    with matplotlib.rc_context(), warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        warnings.simplefilter("ignore", UserWarning)  # Optuna's "too few trials" notes
        fig = draw().figure
        fig.set_size_inches(*size)
        try:
            return save(fig, path)
        finally:
            plt.close(fig)


def plot_optimization_history(study: optuna.Study, path: str, *, objective_name: str) -> str:
    """Optuna's optimization history: each COMPLETE trial's value and the best value so far.

    Raises:
        ValueError: when the study has no COMPLETE trial.
    """
    from optuna.visualization import matplotlib as optuna_plots

    if not study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)):
        raise ValueError("no COMPLETE trial to plot")
    return _optuna_plot(
        lambda: optuna_plots.plot_optimization_history(study, target_name=objective_name),
        path,
        (8.0, 4.5),
    )


def plot_param_importances(study: optuna.Study, importance: analysis.Importance, path: str) -> str:
    """Optuna's importance plot, by the evaluator that ranked the parameters, with the caveat.

    Raises:
        ValueError: when no importance was computed.
    """
    from optuna.visualization import matplotlib as optuna_plots

    if not importance.importances:
        raise ValueError(f"no importances to plot ({importance.caveat})")

    def draw() -> Any:
        ax = optuna_plots.plot_param_importances(
            study,
            evaluator=analysis.make_evaluator(importance.evaluator),
            params=list(importance.importances),
        )
        title = f"Parameter importance ({importance.evaluator}, {importance.num_complete} trials)"
        if importance.caveat:
            title += "\n" + textwrap.fill(f"Caveat: {importance.caveat}.", 100)
        ax.set_title(title, fontsize=9)
        return ax

    return _optuna_plot(draw, path, (8.0, 2.2 + 0.5 * len(importance.importances)))


def _slice_params(trials: Sequence[FrozenTrial]) -> list[tuple[str, Any]]:
    """Searched parameters with the distribution of the latest trial that has them."""
    dists: dict[str, Any] = {}
    for t in trials:
        for name, dist in t.distributions.items():
            if not dist.single():
                dists[name] = dist
    return list(dists.items())


def plot_slices(study: optuna.Study, path: str, *, objective_name: str) -> str:
    """The objective against each searched hyperparameter, one panel each; the best trial starred.

    Drawn here rather than by Optuna's ``plot_slice``, which zooms each axis to the sampled values: the
    x axis spans the whole searched range, so a best value at the edge of the space shows as one.

    Raises:
        ValueError: when no COMPLETE trial has a searched parameter.
    """
    complete = [
        t
        for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
        if t.value is not None
    ]
    params = _slice_params(complete)
    if not params:
        raise ValueError("no COMPLETE trial with a searched hyperparameter to plot")
    best = best_trials(study, 1)
    cols = min(3, len(params))
    rows = math.ceil(len(params) / cols)
    fig = figure(4.0 * cols, 3.3 * rows)
    all_values = [float(t.value) for t in complete]
    last_number = max(t.number for t in complete)  # one colour scale for all panels and the bar
    for i, (name, dist) in enumerate(params):
        ax = fig.add_subplot(rows, cols, i + 1)
        having = [t for t in complete if name in t.params]
        xs: list[Any] = [t.params[name] for t in having]
        ys = [float(t.value) for t in having]
        labels = None
        if isinstance(dist, CategoricalDistribution) and not all(
            isinstance(c, (int, float)) and not isinstance(c, bool) for c in dist.choices
        ):
            labels = [str(c) for c in dist.choices]
            xs = [labels.index(str(x)) if str(x) in labels else len(labels) for x in xs]
            ax.set_xticks(range(len(labels)), labels)
        scatter = ax.scatter(
            xs, ys, c=[t.number for t in having], cmap="viridis", s=28, vmin=0, vmax=last_number
        )
        if best and name in best[0].params:
            bx = best[0].params[name]
            if labels is not None:
                bx = labels.index(str(bx)) if str(bx) in labels else len(labels)
            ax.plot([bx], [best[0].value], "*", color="tab:red", markersize=14, label="best")
        if isinstance(dist, (IntDistribution, FloatDistribution)) and dist.log:
            from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

            ax.set_xscale("log")
            ax.xaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
            ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
            ax.xaxis.set_minor_formatter(NullFormatter())
            ax.tick_params(axis="x", labelrotation=30)
        if isinstance(dist, (IntDistribution, FloatDistribution)):
            # The whole searched range, so a best value at its edge shows as one.
            if dist.log:
                ax.set_xlim(dist.low / 1.15, dist.high * 1.15)
            else:
                pad = 0.05 * (dist.high - dist.low)
                ax.set_xlim(dist.low - pad, dist.high + pad)
        if _positive_span_is_wide(all_values):
            ax.set_yscale("log")
        ax.set_xlabel(name)
        if i % cols == 0:
            ax.set_ylabel(objective_name)
        ax.grid(alpha=0.3)
    fig.colorbar(scatter, ax=fig.axes, label="trial", shrink=0.8)
    fig.suptitle(f"{objective_name} against each hyperparameter (colour: trial number)")
    return save(fig, path, tight=False)  # the colorbar spans the axes: no tight_layout here


# -- training curves and predictions --------------------------------------------------------------------


def history_by_metric(
    history: Sequence[Mapping[str, float]] | Mapping[str, Sequence[float]],
) -> dict:
    """Per-epoch logs as ``{metric: [value per epoch]}``, from either Keras's or the tuner's layout.

    The tuner stores a trial's history as a list of per-epoch dicts (trial user attribute ``history``);
    Keras's ``History.history`` is a dict of lists.
    """
    if isinstance(history, Mapping):
        return {k: [float(v) for v in vals] for k, vals in history.items()}
    out: dict[str, list[float]] = {}
    for epoch_logs in history:
        for k, v in epoch_logs.items():
            out.setdefault(k, []).append(float(v))
    return out


def plot_loss_curves(
    history: Sequence[Mapping[str, float]] | Mapping[str, Sequence[float]],
    path: str,
    *,
    title: str,
    objective_name: str = "val_loss",
    minimize: bool = True,
) -> str:
    """Training and validation loss per epoch, with the best epoch of the objective marked.

    Raises:
        ValueError: when the history has no loss.
    """
    curves = history_by_metric(history)
    names = [n for n in ("loss", "val_loss") if curves.get(n)]
    if objective_name not in names and curves.get(objective_name):
        names.append(objective_name)
    if not names:
        raise ValueError(f"no loss in the history (metrics: {sorted(curves)})")
    fig = figure()
    ax = fig.add_subplot(1, 1, 1)
    for name in names:
        epochs = np.arange(1, len(curves[name]) + 1)
        ax.plot(epochs, curves[name], "o-", label=name, markersize=4)
    if curves.get(objective_name):
        values = curves[objective_name]
        best = int(np.argmin(values) if minimize else np.argmax(values))
        ax.axvline(best + 1, color="tab:gray", linestyle="--", label=f"best epoch ({best + 1})")
    if _positive_span_is_wide([v for n in names for v in curves[n]]):
        ax.set_yscale("log")
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()
    return save(fig, path)


def try_plot(what: str, draw: Callable[[], str], written: list[str]) -> None:
    """Draws one plot; a plot that cannot be drawn is logged and skipped, never fatal."""
    try:
        written.append(draw())
    except Exception as e:  # a plot must never end a finished search
        logging.warning("Plot %s skipped: %s: %s", what, type(e).__name__, e)


def write_search_plots(
    study: optuna.Study,
    plots_dir: str,
    *,
    objective_name: str,
    importance: analysis.Importance | None = None,
) -> list[str]:
    """Writes the search's plots (history, importance, slices, best trial's curves) to ``plots_dir``.

    Returns:
        The paths written; a plot without data (e.g. importance of a single trial) is left out.
    """
    written: list[str] = []
    if not study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)):
        logging.warning("Plots skipped: no COMPLETE trial yet")
        return written
    try_plot(
        "optimization history",
        lambda: plot_optimization_history(
            study, os.path.join(plots_dir, OPTIMIZATION_HISTORY), objective_name=objective_name
        ),
        written,
    )
    imp = importance if importance is not None else analysis.param_importances(study)
    if imp.importances:
        try_plot(
            "parameter importance",
            lambda: plot_param_importances(study, imp, os.path.join(plots_dir, PARAM_IMPORTANCES)),
            written,
        )
    try_plot(
        "slices",
        lambda: plot_slices(study, os.path.join(plots_dir, SLICE), objective_name=objective_name),
        written,
    )
    best = best_trials(study, 1)
    if best and best[0].user_attrs.get("history"):
        minimize = study.direction == optuna.study.StudyDirection.MINIMIZE
        try_plot(
            "best trial's loss",
            lambda: plot_loss_curves(
                best[0].user_attrs["history"],
                os.path.join(plots_dir, BEST_TRIAL_LOSS),
                title=f"Best trial {best[0].number}: loss per epoch",
                objective_name=objective_name,
                minimize=minimize,
            ),
            written,
        )
    return written
