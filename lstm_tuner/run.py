"""The whole job behind the CLI: data -> search -> run directory -> export -> optional retraining.

``run(config, options)`` receives a validated, frozen :class:`~lstm_tuner.config.Config`; it never reads
flags. Everything it writes lives under ``options.output_dir``::

    study.db            the Optuna storage (unless --storage points elsewhere)
    best_params.json    the best trial's hyperparameters, value and number
    trials.csv          one row per trial
    summary.md          trials, best configuration, importance, edge warnings, test-set comparison
    plots/              PNG plots (unless --no_plots; needs matplotlib)
    tensorboard/        per-trial TensorBoard logs with HParams summaries (needs tensorboard)
    trials/             best-epoch weights of each trial
    export/best_trial/  SavedModel of the best trial (+ metadata.json)
    export/final/       SavedModel of the retrained model (with --retrain_epochs)
"""

from __future__ import annotations

import csv
import dataclasses
import io
import os
from typing import Any

import keras
import numpy as np
from absl import logging

from lstm_tuner import plots as plots_lib
from lstm_tuner import report
from lstm_tuner import study as study_lib
from lstm_tuner.config import Config, config_to_dict
from lstm_tuner.data import SeriesData, Windows, load_data
from lstm_tuner.errors import ConfigError
from lstm_tuner.export import export_model, write_json_atomic, write_text_atomic
from lstm_tuner.model import LSTMHyperModel
from lstm_tuner.objective import Objective
from lstm_tuner.tuner import Tuner, grid_from_hypermodel

#: Set by ``run_workers`` for each worker (1, 2, ...); offsets the sampler seed so workers differ.
WORKER_INDEX_ENV = "LSTM_TUNER_WORKER_INDEX"


@dataclasses.dataclass(frozen=True)
class RunOptions:
    """How and where to run; everything about *what* to run is in the config.

    Attributes:
        study_name: The Optuna study's name.
        output_dir: The run directory.
        storage: An Optuna storage URL; default ``sqlite:///<output_dir>/study.db``.
        overwrite: Delete the study and start afresh.
        strategy: ``auto``, ``default``, ``mirrored`` or ``one_device``.
        verbose: Keras ``fit`` verbosity (0 quiet, 1 progress bar, 2 one line per epoch).
        plots: Write PNG plots to ``<output_dir>/plots/`` (skipped with a warning without matplotlib).
    """

    study_name: str
    output_dir: str
    storage: str | None = None
    overwrite: bool = False
    strategy: str = "auto"
    verbose: int = 0
    search_only: bool = False
    plots: bool = True


@dataclasses.dataclass(frozen=True)
class RunResult:
    """What a run produced."""

    output_dir: str
    finished_trials: int
    n_trials: int
    best_trial: int | None
    best_value: float | None
    best_params: dict[str, Any]
    evaluation: dict[str, Any] | None
    summary: str


def make_hypermodel(config: Config, num_features: int) -> LSTMHyperModel:
    """The LSTM hypermodel described by the config."""
    return LSTMHyperModel(
        window_size=config.data.window_size,
        num_features=num_features,
        horizon=config.data.horizon,
        search_space=config.search_space,
        optimizer=config.training.optimizer,
        clipnorm=config.training.clipnorm,
        loss=config.training.loss,
    )


def make_tuner(config: Config, options: RunOptions, num_features: int) -> Tuner:
    """The tuner for a config: sampler, pruner, storage and study as configured."""
    hypermodel = make_hypermodel(config, num_features)
    grid = None
    if config.study.sampler == "grid":
        try:
            grid = grid_from_hypermodel(hypermodel)
        except ValueError as e:
            raise ConfigError(f"{config.path}: study.sampler: grid: {e}") from None
    output_dir = os.path.abspath(options.output_dir)
    sampler_seed = config.study.seed
    worker_index = int(os.environ.get(WORKER_INDEX_ENV, "0"))
    if sampler_seed is not None and worker_index:
        # Workers with one seed would all sample the same values; each gets its own stream.
        sampler_seed += worker_index
    return Tuner(
        hypermodel,
        heartbeat_interval_s=config.study.heartbeat_interval_s,
        grace_period_s=config.study.grace_period_s,
        max_retries=config.study.max_retries,
        objective=Objective(config.study.objective, config.study.direction),
        max_trials=config.study.n_trials,
        sampler=study_lib.make_sampler(
            config.study.sampler, sampler_seed, search_space=grid, n_trials=config.study.n_trials
        ),
        pruner=study_lib.make_pruner(config.study.pruner, max_epochs=config.training.epochs),
        storage=options.storage,
        study_name=options.study_name,
        directory=os.path.dirname(output_dir),
        project_name=os.path.basename(output_dir),
        overwrite=options.overwrite,
        seed=config.study.seed,
        distribution_strategy=options.strategy,
        tensorboard_dir=os.path.join(output_dir, "tensorboard"),
    )


def run(config: Config, options: RunOptions, data: SeriesData | None = None) -> RunResult:
    """Runs (or resumes) the search and writes the run directory.

    Args:
        config: The validated configuration.
        options: Where and how to run.
        data: The series already loaded from ``config.data`` (loaded here when ``None``).

    Raises:
        DataError / ConfigError: before anything is created, for bad data or an unusable storage.
        FatalError: when the search cannot go on.
    """
    if data is None:
        data = load_data(config.data)
    if options.storage is not None:
        # Open a user-given storage before creating anything, so a bad URL leaves no trace.
        try:
            study_lib.open_storage(options.storage)
        except ValueError as e:
            raise ConfigError(f"--storage: {e}") from None
    logging.info(
        "Data: %s; windows train/validation/test = %d/%d/%d; window_size=%d horizon=%d features=%s",
        data.source,
        len(data.train),
        len(data.validation),
        len(data.test),
        config.data.window_size,
        config.data.horizon,
        list(data.column_names),
    )
    tuner = make_tuner(config, options, data.num_features)
    tuner.search(
        data.train,
        validation_data=data.validation,
        epochs=config.training.epochs,
        verbose=options.verbose,
    )
    finished = study_lib.count_finished(tuner.study)
    logging.info("%d of %d trials complete", finished, config.study.n_trials)
    output_dir = tuner.project_dir
    if options.search_only:
        return RunResult(output_dir, finished, config.study.n_trials, None, None, {}, None, "")
    best = study_lib.best_trials(tuner.study, 1)
    best_params: dict[str, Any] = {}
    evaluation = None
    if best:
        best_params = study_lib.trial_hyperparameters(best[0])
        write_json_atomic(
            os.path.join(output_dir, "best_params.json"),
            {
                "study_name": options.study_name,
                "trial_number": best[0].number,
                "objective": config.study.objective,
                "value": best[0].value,
                "params": best_params,
            },
        )
        # One rebuild of the best trial's model serves the export and the test-set comparison.
        best_model = None
        if os.path.exists(tuner.weights_path(best[0].number)):
            best_model = tuner.get_best_models(1)[0]
        else:
            logging.warning(
                "The weights of the best trial %d were written by a worker on another machine (%s); "
                "run this command there to export it and to compare it on the test set.",
                best[0].number,
                best[0].user_attrs.get("worker", "unknown"),
            )
        if config.export.enabled and best_model is not None:
            export_trained(
                best_model,
                os.path.join(output_dir, "export", "best_trial"),
                data,
                config,
                {
                    "source": "best_trial",
                    "trial_number": best[0].number,
                    "hyperparameters": best_params,
                    "validation_loss": best[0].value,
                },
            )
        if config.training.retrain_epochs:
            evaluation = retrain_and_evaluate(
                tuner, data, config, config.training.retrain_epochs, options.verbose, best_model
            )
            write_json_atomic(os.path.join(output_dir, "evaluation.json"), evaluation)
    write_text_atomic(os.path.join(output_dir, "trials.csv"), trials_csv(tuner))
    importance = report.param_importances(tuner.study) if best else None
    plot_files: list[str] = []
    if options.plots and best and plots_lib.check_available():
        plot_files = write_plots(tuner, config, data, evaluation, importance)
    summary = summary_markdown(
        tuner, config, options, data, evaluation, importance=importance, plot_files=plot_files
    )
    write_text_atomic(os.path.join(output_dir, "summary.md"), summary)
    return RunResult(
        output_dir=output_dir,
        finished_trials=finished,
        n_trials=config.study.n_trials,
        best_trial=best[0].number if best else None,
        best_value=best[0].value if best else None,
        best_params=best_params,
        evaluation=evaluation,
        summary=summary,
    )


def run_workers(
    config: Config,
    options: RunOptions,
    num_workers: int,
    command: list[str],
    data: SeriesData | None = None,
) -> list[int]:
    """Starts ``num_workers`` processes running ``command`` on the run's study and waits for them.

    The study is created (or overwritten) here first, so that workers only ever load it. With GPUs, each
    worker sees exactly one (``CUDA_VISIBLE_DEVICES``), round robin. SIGINT/SIGTERM are passed on.

    Returns:
        The non-zero exit codes of the workers that failed (empty when all succeeded).
    """
    import signal
    import subprocess

    import tensorflow as tf

    if data is None:
        data = load_data(config.data)
    make_tuner(config, options, data.num_features)  # creates the study, or deletes it on overwrite
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    gpu_ids = (
        [g for g in visible.split(",") if g.strip()]
        if visible is not None
        else [str(i) for i in range(len(tf.config.list_physical_devices("GPU")))]
    )
    procs = []
    for i in range(num_workers):
        env = dict(os.environ)
        env[WORKER_INDEX_ENV] = str(i + 1)
        if gpu_ids:
            env["CUDA_VISIBLE_DEVICES"] = gpu_ids[i % len(gpu_ids)]
        procs.append(subprocess.Popen(command, env=env))
    logging.info(
        "Started %d workers (pids %s)%s",
        num_workers,
        [p.pid for p in procs],
        f" on GPUs {gpu_ids}" if gpu_ids else " sharing the CPU",
    )
    try:
        codes = [p.wait() for p in procs]
    except KeyboardInterrupt:
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in procs:
            p.wait()
        raise
    return [c for c in codes if c != 0]


def export_trained(
    model: keras.Model, path: str, data: SeriesData, config: Config, metadata: dict[str, Any]
) -> str:
    """Exports a model trained on scaled data so that it serves in original units."""
    scaler = data.scaler
    return export_model(
        model,
        path,
        input_mean=scaler.mean,
        input_scale=scaler.scale,
        target_mean=float(scaler.mean[0]),
        target_scale=float(scaler.scale[0]),
        metadata={
            **metadata,
            "horizon": config.data.horizon,
            "feature_names": list(data.column_names),
            "target_name": data.target_name,
            "data_source": data.source,
            "config": config_to_dict(config),
        },
    )


def evaluate_in_original_units(
    predictions_scaled: np.ndarray, windows: Windows, data: SeriesData
) -> dict[str, float]:
    """MSE and MAE of scaled predictions ``[n, horizon]`` against a split's targets, in original units."""
    _, y_scaled = windows.arrays()
    y = data.scaler.inverse_transform_target(y_scaled)
    pred = data.scaler.inverse_transform_target(np.asarray(predictions_scaled))
    err = pred - y
    return {"mse": float(np.mean(err**2)), "mae": float(np.mean(np.abs(err)))}


def retrain_and_evaluate(
    tuner: Tuner,
    data: SeriesData,
    config: Config,
    epochs: int,
    verbose: int = 0,
    best_trial_model: keras.Model | None = None,
) -> dict[str, Any]:
    """Retrains the best configuration, evaluates it on the test split against two references.

    The references are the naive last-value forecast and ``best_trial_model``, the best trial's own
    (short-trained) model, when given. The retrained model is exported to ``export/final/``.
    """
    x_test, _ = data.test.arrays()
    best_trial_eval = None
    if best_trial_model is not None:
        best_trial_eval = evaluate_in_original_units(
            best_trial_model.predict(x_test, verbose=0), data.test, data
        )
    naive = evaluate_in_original_units(data.test.last_values(), data.test, data)
    model, history = tuner.retrain_best(
        data.train,
        validation_data=data.validation,
        epochs=epochs,
        patience=config.training.early_stopping_patience,
        verbose=verbose,
    )
    model.save_weights(os.path.join(tuner.project_dir, "retrained.weights.h5"))
    retrained_scaled = model.predict(x_test, verbose=0)
    retrained = evaluate_in_original_units(retrained_scaled, data.test, data)
    _, y_test_scaled = data.test.arrays()
    objective_history = [float(v) for v in history.history.get(config.study.objective, [])]
    best_epoch = (
        int(
            np.argmin(objective_history)
            if config.study.direction == "minimize"
            else np.argmax(objective_history)
        )
        + 1
        if objective_history
        else None
    )
    best_params = tuner.get_best_hyperparameters(1)[0].values
    result = {
        "retrain_epochs": epochs,
        "epochs_run": len(objective_history),
        "best_epoch": best_epoch,
        "best_validation_loss": objective_history[best_epoch - 1] if best_epoch else None,
        "history": {k: [float(v) for v in vals] for k, vals in history.history.items()},
        "test": {
            "retrained": retrained,
            **({"best_trial": best_trial_eval} if best_trial_eval is not None else {}),
            "naive_last_value": naive,
        },
        "units": f"original units of {data.target_name!r}",
        # [test windows, horizon], original units: what the test plot draws
        "test_predictions": {
            "actual": data.scaler.inverse_transform_target(y_test_scaled).tolist(),
            "retrained": data.scaler.inverse_transform_target(retrained_scaled).tolist(),
        },
    }
    if config.export.enabled:
        export_trained(
            model,
            os.path.join(tuner.project_dir, "export", "final"),
            data,
            config,
            {
                "source": "retrained",
                "hyperparameters": best_params,
                "retrain_epochs": epochs,
                "epochs_run": result["epochs_run"],
                "validation_loss": result["best_validation_loss"],
                "test": retrained,
            },
        )
    return result


def trials_csv(tuner: Tuner) -> str:
    """One row per trial: number, state, each hyperparameter, value, duration, failure reason."""
    trials = tuner.study.get_trials(deepcopy=False)
    names: list[str] = []
    for t in trials:
        for name in study_lib.trial_hyperparameters(t):
            if name not in names:
                names.append(name)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["number", "state", *names, "value", "duration_s", "best_epoch", "fail_reason"])
    for t in trials:
        hps = study_lib.trial_hyperparameters(t)
        duration = report.trial_duration_s(t)
        writer.writerow(
            [
                t.number,
                t.state.name,
                *(hps.get(n, "") for n in names),
                "" if t.value is None else repr(float(t.value)),
                "" if duration is None else f"{duration:.3f}",
                t.user_attrs.get("best_epoch", ""),
                t.user_attrs.get("fail_reason", ""),
            ]
        )
    return buf.getvalue()


def write_plots(
    tuner: Tuner,
    config: Config,
    data: SeriesData,
    evaluation: dict[str, Any] | None,
    importance: report.Importance | None = None,
) -> list[str]:
    """Writes the run's PNG plots to ``<run directory>/plots/`` (see :mod:`lstm_tuner.plots`).

    Plots of an earlier run of the same study are replaced; a plot that cannot be drawn is skipped with
    a warning.

    Returns:
        The paths written.
    """
    plots_dir = os.path.join(tuner.project_dir, "plots")
    for name in (
        plots_lib.OPTIMIZATION_HISTORY,
        plots_lib.PARAM_IMPORTANCES,
        plots_lib.SLICE,
        plots_lib.BEST_TRIAL_LOSS,
        plots_lib.RETRAINED_LOSS,
        plots_lib.TEST_PREDICTIONS,
    ):
        if os.path.exists(os.path.join(plots_dir, name)):
            os.remove(os.path.join(plots_dir, name))  # stale: from an earlier run
    written = plots_lib.write_search_plots(
        tuner.study, plots_dir, objective_name=config.study.objective, importance=importance
    )
    if evaluation is not None:
        written += plots_lib.write_retrain_plots(
            evaluation,
            plots_dir,
            objective_name=config.study.objective,
            minimize=config.study.direction == "minimize",
            target_name=data.target_name,
        )
    logging.info("Plots: %d PNG files in %s", len(written), plots_dir)
    return written


_PLOT_TITLES = {
    plots_lib.OPTIMIZATION_HISTORY: "Optimization history",
    plots_lib.PARAM_IMPORTANCES: "Parameter importance",
    plots_lib.SLICE: "Objective against each hyperparameter",
    plots_lib.BEST_TRIAL_LOSS: "Best trial: loss per epoch",
    plots_lib.RETRAINED_LOSS: "Retrained model: loss per epoch",
    plots_lib.TEST_PREDICTIONS: "Retrained model: test predictions against the actual series",
}


def summary_markdown(
    tuner: Tuner,
    config: Config,
    options: RunOptions,
    data: SeriesData,
    evaluation: dict[str, Any] | None,
    *,
    importance: report.Importance | None = None,
    plot_files: list[str] | None = None,
) -> str:
    """The run's ``summary.md``: what ran, the trials, the best configuration and how to read it.

    Sections: results (trials per state with failure reasons, total time, best configuration), all
    trials sorted by value, parameter importance, edge-of-space warnings, the plots, the retrained
    model on the test set (after ``--retrain_epochs``), and the commands that open TensorBoard and
    optuna-dashboard on this run.

    Args:
        importance: Precomputed importances (computed here when ``None`` and a trial is complete).
        plot_files: The PNG files written, linked relative to the run directory.
    """
    study = tuner.study
    objective = config.study.objective
    db_path = os.path.join(options.output_dir, "study.db")
    storage = options.storage or f"sqlite:///{db_path}"
    lines = [
        f"# Study `{options.study_name}`",
        "",
        f"- config: `{config.path}`",
        f"- data: {data.source}; columns {list(data.column_names)}; windows train/validation/test "
        f"= {len(data.train)}/{len(data.validation)}/{len(data.test)}",
        f"- storage: `{study_lib.redact_url(storage)}`",
        f"- objective: {objective} ({config.study.direction}), "
        f"{config.training.epochs} epochs per trial, sampler {config.study.sampler}, "
        f"pruner {config.study.pruner}",
        "",
        "## Results",
        "",
        "```",
        *report.format_state_counts(study, objective),
    ]
    if study.get_trials(deepcopy=False):
        lines.append(report.format_total_time(study))
    best = report.format_best(study, objective)
    if best:
        lines += ["", *best]
    lines += [
        "```",
        "",
        "## Trials, best first",
        "",
        report.trials_table(study, objective_name=objective),
        "",
    ]
    if best:
        if importance is None:
            importance = report.param_importances(study)
        lines += [
            "## Parameter importance",
            "",
            report.format_importance(importance, markdown=True),
            "",
            f"Computed by Optuna's {importance.evaluator} evaluator over "
            f"{importance.num_complete} complete trials"
            + (
                " (fANOVA is used when scikit-learn is installed)."
                if importance.evaluator != "fANOVA"
                else "."
            ),
            "",
            "## Edge-of-space warnings",
            "",
            report.format_edge_warnings(report.edge_warnings(study), markdown=True),
            "",
        ]
    if plot_files:
        lines += ["## Plots", ""]
        for path in plot_files:
            name = os.path.basename(path)
            if name in (plots_lib.RETRAINED_LOSS, plots_lib.TEST_PREDICTIONS):
                continue  # shown with the retraining below
            lines += [f"![{_PLOT_TITLES.get(name, name)}](plots/{name})", ""]
    if evaluation is not None:
        test = evaluation["test"]
        lines += [
            "## Retrained best configuration on the test set",
            "",
            f"Retrained for up to {evaluation['retrain_epochs']} epochs with early stopping "
            f"(patience {config.training.early_stopping_patience}): ran {evaluation['epochs_run']} "
            f"epochs, best epoch {evaluation['best_epoch']}. Errors in {evaluation['units']}.",
            "",
            report.markdown_table(
                ["model", "test MSE", "test MAE"],
                [
                    [label, test[key]["mse"], test[key]["mae"]]
                    for key, label in (
                        ("retrained", "retrained best configuration"),
                        ("best_trial", f"best trial ({config.training.epochs} epochs)"),
                        ("naive_last_value", "naive last value"),
                    )
                    if key in test
                ],
            ),
            "",
        ]
        for path in plot_files or []:
            name = os.path.basename(path)
            if name in (plots_lib.RETRAINED_LOSS, plots_lib.TEST_PREDICTIONS):
                lines += [f"![{_PLOT_TITLES[name]}](plots/{name})", ""]
    lines += ["## Browsing the run", ""]
    if tuner.tensorboard_dir is not None:
        lines.append(
            "- TensorBoard (loss curves; HPARAMS tab: table and parallel coordinates): "
            f"`tensorboard --logdir {os.path.join(options.output_dir, 'tensorboard')}`"
        )
    else:
        lines.append(
            "- TensorBoard logs were not written: install the `tensorboard` package "
            "(`pip install 'lstm_tuner[plots]'`)"
        )
    lines += [
        "- optuna-dashboard (`pip install optuna-dashboard`), while no worker is running: "
        f"`optuna-dashboard {study_lib.redact_url(storage)}`",
        "",
    ]
    return "\n".join(lines)
