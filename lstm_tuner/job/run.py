"""The job behind the CLI: search -> selection -> retraining -> verdict -> export -> reports.

``run(config, options, ...)`` receives a validated, frozen :class:`~lstm_tuner.config.schema.Config`; it never
reads flags. Everything it writes lives under ``options.output_dir``::

    study.db            the Optuna storage (unless --storage points elsewhere)
    artifacts/          the artifact store: each trial's best-epoch weights (unless --artifact_store)
    best_params.json    the best trial's hyperparameters, value and number
    trials.csv          one row per trial
    summary.md          trials, best configuration, importance, edge warnings, test-set comparison
    plots/              PNG plots (unless --no_plots; needs matplotlib)
    tensorboard/        per-trial TensorBoard logs with HParams summaries (needs tensorboard)
    export/best_trial/  SavedModel of the best trial (+ metadata.json)
    export/final/       SavedModel of the retrained model (with --retrain_epochs)
"""

from __future__ import annotations

import dataclasses
import os
from typing import Any

import optuna
from absl import logging

from lstm_tuner.config.schema import Config, StudyConfig, config_to_dict
from lstm_tuner.engine.analysis import Importance, param_importances
from lstm_tuner.engine.results import INTERVALS_ATTR, VERDICT_ATTR, trials_csv
from lstm_tuner.engine.tuner import Tuner
from lstm_tuner.errors import FatalError
from lstm_tuner.files import archive_dir, write_json_atomic, write_text_atomic
from lstm_tuner.job.options import RunOptions, open_backends
from lstm_tuner.job.retraining import retrain
from lstm_tuner.job.search import make_tuner
from lstm_tuner.job.selection import select_trial
from lstm_tuner.job.verdict import (
    calibrate_intervals,
    evaluate_on_test,
    interval_verdict,
    verdict,
)
from lstm_tuner.reporting import model_plots, search_plots
from lstm_tuner.reporting.summary import RunInfo, summary_markdown
from lstm_tuner.serving.export import export_trained
from lstm_tuner.storage import artifacts
from lstm_tuner.storage import study as study_lib
from lstm_tuner.timeseries.season import short_window_note
from lstm_tuner.timeseries.series import SeriesData, load_data


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
    #: "6 of 8 trials complete, 2 failed (reason)" (:func:`lstm_tuner.storage.study.budget_line`).
    budget: str = ""


def run(
    config: Config,
    options: RunOptions,
    data: SeriesData | None = None,
    tuner: Tuner | None = None,
) -> RunResult:
    """Runs (or resumes) the search and writes the run directory.

    Args:
        config: The validated configuration.
        options: Where and how to run.
        data: The series loaded from ``config.data`` (loaded here when ``None``).
        tuner: From :func:`~lstm_tuner.job.search.make_tuner` (made here, with
            :func:`~lstm_tuner.job.options.open_backends`, when ``None``).

    Raises:
        DataError / ConfigError: before anything is created, for bad data or an unusable storage.
        FatalError: when the search cannot go on.
    """
    if data is None:
        data = load_data(config.data)
    if tuner is None:
        storage, location = open_backends(config.study, options)
        tuner = make_tuner(config, options, data, storage, location)
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
    note = short_window_note(data.season_length, config.data.window_size)
    if note:
        logging.warning("%s", note)  # before the search is spent, not only in summary.md
    fit_kwargs = dict(
        validation_data=data.validation, epochs=config.training.epochs, verbose=options.verbose
    )
    tuner.search(data.train, **fit_kwargs)
    output_dir = tuner.project_dir
    if options.worker_index:
        finished = study_lib.count_finished(tuner.study)
        budget = study_lib.budget_line(tuner.study, config.study.n_trials)
        logging.info("%s", budget)
        return RunResult(
            output_dir, finished, config.study.n_trials, None, None, {}, None, "", budget
        )
    # Read once: the selection and every report below read this copy of the study.
    study = study_lib.snapshot(tuner.study)
    finished = study_lib.count_finished(study)
    budget = study_lib.budget_line(study, config.study.n_trials)
    logging.info("%s", budget)
    top = study_lib.best_trials(study, max(1, config.study.reevaluate_top_k))
    selection = select_trial(tuner, top, config.study.reevaluate_seeds, (data.train,), fit_kwargs)
    best_params: dict[str, Any] = {}
    evaluation = None
    importance = None
    if selection is not None:
        trial = selection.trial
        best_params = selection.hyperparameters.values
        write_json_atomic(
            os.path.join(output_dir, "best_params.json"),
            {
                "study_name": options.study_name,
                "trial_number": trial.number,
                "objective": config.study.objective,
                "value": trial.value,
                "params": best_params,
                "selected_by": selection.by,
                **({"reevaluation": selection.candidates} if selection.candidates else {}),
            },
        )
        # One load of the best trial's model serves the export and the test-set comparison.
        try:
            # By number: the snapshot's trial ids are not the storage's, where the weights are.
            best_model = tuner.load_model(trial.number)
        except FileNotFoundError as e:
            raise FatalError(
                f"{e}: the artifact store {tuner.artifacts.url} does not hold what the study "
                "records; run with the --artifact_store the workers used"
            ) from None
        models = {"best_trial": best_model}
        exports = {
            "best_trial": {
                "source": "best_trial",
                "trial_number": trial.number,
                "hyperparameters": best_params,
                "validation_loss": trial.value,
            }
        }
        retraining, held_out = None, {}
        if config.training.retrain_epochs:
            retrained = retrain(
                tuner,
                data,
                selection.hyperparameters,
                config.training.retrain_epochs,
                config.training.early_stopping_patience,
                options.verbose,
                seeds=config.training.retrain_seeds,
                on=config.training.retrain_on,
            )
            models["retrained"], retraining = retrained.model, retrained.info
            held_out = retrained.stand_ins()
            exports["retrained"] = {
                "source": "retrained",
                "hyperparameters": best_params,
                "retrain_epochs": config.training.retrain_epochs,
                "epochs_run": retraining["epochs_run"],
                "validation_loss": retraining["best_validation_loss"],
                "seeds": config.training.retrain_seeds,
                "trained_on": config.training.retrain_on,
                # with a refit: its epochs; epochs_run and validation_loss are then its twin's
                **(
                    {"refit_epochs": retraining["refit"]["epochs"]} if "refit" in retraining else {}
                ),
            }
        # Calibrated on validation: judged on the test split, and exported with the model.
        intervals = calibrate_intervals(models, data, config, held_out)
        test = evaluate_on_test(models, data, config, intervals, held_out)
        evaluation = {
            "verdict": verdict(test),
            "intervals": interval_verdict(test),
            "test": test,
            "retraining": retraining,
        }
        if config.export.enabled:
            record = config_to_dict(config)
            for name, metadata in exports.items():
                path = os.path.join(output_dir, "export", EXPORT_DIRS[name])
                export_trained(
                    models[name],
                    path,
                    data,
                    metadata,
                    run_config=record,
                    intervals=intervals.get(name),
                )
        # Tuner.results_summary() on this study (from any host) repeats the verdict.
        tuner.study.set_user_attr(VERDICT_ATTR, evaluation["verdict"])
        tuner.study.set_user_attr(INTERVALS_ATTR, evaluation["intervals"])
        write_json_atomic(os.path.join(output_dir, "evaluation.json"), evaluation)
        importance = param_importances(study)
    write_text_atomic(os.path.join(output_dir, "trials.csv"), trials_csv(study))
    plot_files: list[str] = []
    if options.plots and selection and search_plots.check_available():
        plot_files = write_plots(
            study,
            os.path.join(output_dir, "plots"),
            config.study,
            data.target_name,
            evaluation,
            importance,
        )
    summary = summary_markdown(
        study,
        run_info(config, options, data, tuner),
        evaluation,
        importance=importance,
        plot_files=plot_files,
        selection=None
        if selection is None
        else {
            "trial": selection.trial.number,
            "by": selection.by,
            "candidates": selection.candidates,
        },
    )
    write_text_atomic(os.path.join(output_dir, "summary.md"), summary)
    publish_results(tuner, output_dir, plot_files)
    return RunResult(
        output_dir=output_dir,
        finished_trials=finished,
        n_trials=config.study.n_trials,
        best_trial=selection.trial.number if selection else None,
        best_value=selection.trial.value if selection else None,
        best_params=best_params,
        evaluation=evaluation,
        summary=summary,
        budget=budget,
    )


#: The run's results that are also uploaded to the study's artifact store.
RESULT_FILES = ("summary.md", "best_params.json", "evaluation.json", "trials.csv")
#: Each exported model's directory under ``export/``.
EXPORT_DIRS = {"best_trial": "best_trial", "retrained": "final"}


def publish_results(tuner: Tuner, output_dir: str, plot_files: list[str]) -> list[str]:
    """Uploads the run's results to the study's artifact store (unchanged files are not uploaded
    again): summary.md, best_params.json, evaluation.json, trials.csv, the plots and each export as
    one archive. Any host that opens the study then finds them, as optuna-dashboard does.

    Returns:
        The names uploaded or already there.
    """
    import tempfile

    paths = [os.path.join(output_dir, name) for name in RESULT_FILES] + list(plot_files)
    names = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in EXPORT_DIRS.values():
            directory = os.path.join(output_dir, "export", name)
            if os.path.isdir(directory):
                paths.append(archive_dir(directory, os.path.join(tmp, f"export_{name}.tar.gz")))
        # One read and one write of the study's index, not one per file.
        results = dict(tuner.study.user_attrs.get(artifacts.RESULTS_ATTR) or {})
        for path in paths:
            if os.path.isfile(path):
                artifacts.upload_result(tuner.artifacts, tuner.study, path, results)
                names.append(os.path.basename(path))
        tuner.study.set_user_attr(artifacts.RESULTS_ATTR, results)
    logging.info("Results in the artifact store %s: %s", tuner.artifacts.url, ", ".join(names))
    return names


def run_info(config: Config, options: RunOptions, data: SeriesData, tuner: Tuner) -> RunInfo:
    """What ``summary.md`` says about the run besides the study."""
    return RunInfo(
        study_name=options.study_name,
        config_path=config.path,
        data=f"{data.source}; columns {list(data.column_names)}"
        + (
            f" (known in advance, seen at the forecast steps: {list(data.future_features)})"
            if data.future_features
            else ""
        )
        + f"; windows train/validation/test = {len(data.train)}/{len(data.validation)}/"
        f"{len(data.test)}",
        storage=study_lib.redact_url(options.storage_url),
        objective=config.study.objective,
        direction=config.study.direction,
        epochs_per_trial=config.training.epochs,
        sampler=config.study.sampler,
        pruner=config.study.pruner,
        run_dir=options.output_dir,
        time_column=config.data.time_column,
        frequency=data.times.frequency,
        split_periods=data.split_periods(),
        tensorboard_dir=(
            os.path.join(options.output_dir, "tensorboard")
            if tuner.tensorboard_dir is not None
            else None
        ),
    )


def write_plots(
    study: optuna.Study,
    plots_dir: str,
    objective: StudyConfig,
    target_name: str,
    evaluation: dict[str, Any] | None,
    importance: Importance | None = None,
) -> list[str]:
    """Writes the run's PNG plots to ``plots_dir`` (see :mod:`lstm_tuner.reporting.search_plots`
    and :mod:`lstm_tuner.reporting.model_plots`).

    Plots of an earlier run of the same study are replaced; a plot that cannot be drawn is skipped with
    a warning.

    Args:
        study: The study's snapshot.
        plots_dir: ``<run directory>/plots``.
        objective: The config's ``study`` section: its objective and direction.
        target_name: The series' target, for the axes.
        evaluation: ``evaluation.json``'s content, if the run evaluated a model.
        importance: The parameter importances, when already computed.

    Returns:
        The paths written.
    """
    for name in search_plots.ALL:
        if os.path.exists(os.path.join(plots_dir, name)):
            os.remove(os.path.join(plots_dir, name))  # stale: from an earlier run
    written = search_plots.write_search_plots(
        study, plots_dir, objective_name=objective.objective, importance=importance
    )
    if evaluation is not None:
        written += model_plots.write_forecast_plots(
            evaluation,
            plots_dir,
            objective_name=objective.objective,
            minimize=objective.direction == "minimize",
            target_name=target_name,
        )
    logging.info("Plots: %d PNG files in %s", len(written), plots_dir)
    return written
