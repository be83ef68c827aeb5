"""The command line: ``lstm-tuner`` and ``scripts/hparam_search.py``.

    python scripts/hparam_search.py --config configs/lstm_baseline.yaml --study-name my_hpo_study

Flags are parsed (absl: types, enums and bounds checked at parse time) and the config and data are
validated before TensorFlow is imported. Bad input ends with one line on stderr and exit code 2; nothing
is created. The data is loaded once and the storage opened once, then handed to the library.
"""

from __future__ import annotations

import contextlib
import logging as std_logging
import os
import signal
import sys
from collections.abc import Sequence

from absl import app, flags, logging

from lstm_tuner.errors import ConfigError, DataError, FatalError
from lstm_tuner.job import console
from lstm_tuner.names import STRATEGIES
from lstm_tuner.version import __version__

# Before anything imports TensorFlow: its C++ start-up notes stay out unless the user set the level.
_FILTER_TF_NOISE = console.quiet_tensorflow_by_default()

EXIT_BAD_INPUT = 2
EXIT_FAILED = 1
EXIT_INTERRUPTED = 130

_CONFIG = flags.DEFINE_string(
    "config", None, "Path of the YAML config (e.g. configs/lstm_baseline.yaml)."
)
_STUDY_NAME = flags.DEFINE_string(
    "study_name",
    None,
    "Name of the Optuna study (default: the config file's name). Also --study-name.",
)
flags.DEFINE_alias("study-name", "study_name")
_STORAGE = flags.DEFINE_string(
    "storage", None, "Optuna storage URL (default: sqlite:///<output_dir>/study.db)."
)
_OUTPUT_DIR = flags.DEFINE_string("output_dir", None, "Run directory (default: runs/<study name>).")
_N_TRIALS = flags.DEFINE_integer(
    "n_trials", None, "Trials to run to; overrides study.n_trials.", lower_bound=1
)
_SEED = flags.DEFINE_integer(
    "seed", None, "Seed of sampler and training; overrides study.seed.", lower_bound=0
)
_OVERRIDE = flags.DEFINE_multi_string(
    "override", [], "Config override key.path=value, typed by the config schema (repeatable)."
)
_OVERWRITE = flags.DEFINE_boolean("overwrite", False, "Delete the study and start afresh.")
_STRATEGY = flags.DEFINE_enum("strategy", "auto", STRATEGIES, "tf.distribute strategy.")
_RETRAIN_EPOCHS = flags.DEFINE_integer(
    "retrain_epochs",
    None,
    "After the search, retrain the best configuration for this many epochs (early stopping), evaluate "
    "on the test split and export export/final/. Overrides training.retrain_epochs.",
    lower_bound=0,
)
_WORKERS = flags.DEFINE_integer(
    "workers",
    1,
    "Start this many local worker processes on the run's study and wait for them (one GPU each, round "
    "robin, when there are GPUs). On CPU only, workers share the cores.",
    lower_bound=1,
)
_WORKER_INDEX = flags.DEFINE_integer(
    "worker_index",
    0,
    "Run trials only, as worker k >= 1 of a study shared with other processes or hosts (offsets the "
    "sampler's seed by k so that workers draw different values); a later run without it writes "
    "the export and the report. Set by --workers for local workers.",
    lower_bound=0,
)
_VERBOSE = flags.DEFINE_integer(
    "verbose", 0, "Keras fit verbosity: 0 quiet, 1 progress bar, 2 per epoch.", 0, 2
)
_NO_PLOTS = flags.DEFINE_boolean(
    "no_plots", False, "Write no PNG plots (for headless minimal installs without matplotlib)."
)
_ARTIFACT_STORE = flags.DEFINE_string(
    "artifact_store",
    None,
    "Where trial weights and run results go: a directory (shared by the workers' hosts) or "
    "s3://bucket/prefix; overrides study.artifact_store (default: <output_dir>/artifacts).",
)

# `lstm-tuner forecast`
_MODEL = flags.DEFINE_string(
    "model", None, "forecast: an export directory, or a run directory (export/final, best_trial)."
)
_CSV = flags.DEFINE_string("csv", None, "forecast: the CSV file with the model's columns.")
_OUTPUT = flags.DEFINE_string("output", None, "forecast: write the CSV here (default: stdout).")
_BACKTEST = flags.DEFINE_boolean(
    "backtest", False, "forecast: also forecast every row one step ahead from the window before it."
)
_FUTURE = flags.DEFINE_string(
    "future",
    None,
    "forecast: for a model with data.future_features, a CSV file with those columns' values at "
    "the horizon's steps after the --csv file's last row.",
)


def _raise_keyboard_interrupt(signum: int, frame: object) -> None:
    del frame
    raise KeyboardInterrupt(f"signal {signal.Signals(signum).name}")


def _fail(message: str, code: int = EXIT_BAD_INPUT) -> None:
    print(f"lstm-tuner: error: {message}", file=sys.stderr)
    sys.exit(code)


def parse_flags(argv: Sequence[str]) -> list[str]:
    """Parses flags; a bad flag or value ends the program with one line and exit code 2."""
    try:
        remaining = flags.FLAGS(list(argv))
    except flags.Error as e:
        _fail(str(e).splitlines()[0])
    if len(remaining) > 1:
        _fail(f"unexpected arguments {remaining[1:]}; all options are flags (see --helpfull)")
    return remaining


def _config_overrides() -> list[str]:
    overrides = list(_OVERRIDE.value)
    for flag, key in (
        (_N_TRIALS, "study.n_trials"),
        (_SEED, "study.seed"),
        (_RETRAIN_EPOCHS, "training.retrain_epochs"),
    ):
        if flag.value is not None:
            overrides.append(f"{key}={flag.value}")
    return overrides


def main(argv: Sequence[str]) -> int:
    """Loads the config and the data, opens the storage, runs the job, prints the summary."""
    del argv
    logging.set_verbosity(logging.WARNING)  # quiet until the input is known to be good
    from lstm_tuner.config.schema import (
        load_config,  # no TensorFlow: validate before the slow import
    )
    from lstm_tuner.timeseries.series import load_data

    try:
        config = load_config(_CONFIG.value, _config_overrides())
        data = load_data(config.data)
    except (ConfigError, DataError) as e:
        _fail(str(e))
    study_name = _STUDY_NAME.value or os.path.splitext(os.path.basename(_CONFIG.value))[0]
    from lstm_tuner.job.options import RunOptions, open_backends

    options = RunOptions(
        study_name=study_name,
        output_dir=_OUTPUT_DIR.value or os.path.join("runs", study_name),
        storage=_STORAGE.value,
        # A worker never deletes the study: the process that started the workers already did.
        overwrite=_OVERWRITE.value and not _WORKER_INDEX.value,
        strategy=_STRATEGY.value,
        verbose=_VERBOSE.value,
        plots=not _NO_PLOTS.value,
        artifact_store=_ARTIFACT_STORE.value,
        worker_index=_WORKER_INDEX.value,
        progress=True,
    )
    try:
        storage, location = open_backends(config.study, options)
    except ConfigError as e:
        _fail(str(e))

    logging.set_verbosity(logging.INFO)
    # TensorFlow logs SavedModel-writing details at INFO through the same handler; keep them out.
    std_logging.getLogger("tensorflow").setLevel(std_logging.WARNING)
    logging.info(console.start_tensorflow(_FILTER_TF_NOISE))
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)  # our per-trial lines replace Optuna's
    # SIGTERM (a scheduler, `kill`) ends the running trial like Ctrl-C: recorded FAIL, study resumable.
    signal.signal(signal.SIGTERM, _raise_keyboard_interrupt)
    from lstm_tuner.job import run as run_lib
    from lstm_tuner.job.search import make_tuner

    try:
        tuner = make_tuner(config, options, data, storage, location)
        if _WORKERS.value > 1 and not _WORKER_INDEX.value:
            from lstm_tuner.job import workers

            def command(index: int) -> list[str]:
                return [
                    sys.executable,
                    "-m",
                    "lstm_tuner.cli",
                    *sys.argv[1:],
                    f"--worker_index={index}",
                ]

            failed = workers.run_workers(command, _WORKERS.value, workers.visible_gpus())
            if failed:
                _fail(
                    f"{len(failed)} of {_WORKERS.value} workers failed (exit codes {failed})",
                    EXIT_FAILED,
                )
        result = run_lib.run(config, options, data, tuner)
    except (ConfigError, DataError) as e:
        _fail(str(e))
    except FatalError as e:
        _fail(str(e), EXIT_FAILED)
    except KeyboardInterrupt:
        print(
            f"lstm-tuner: interrupted; the study is saved, rerun the same command to resume "
            f"(run directory {options.output_dir})",
            file=sys.stderr,
        )
        return EXIT_INTERRUPTED
    # A budget left unspent (trials the storage could not record) needs a rerun: not a success.
    unfinished = EXIT_FAILED if result.finished_trials < result.n_trials else 0
    if _WORKER_INDEX.value:
        print(f"worker {os.getpid()}: {result.budget}")
        return unfinished
    print(result.summary)
    if result.evaluation is not None:
        print(result.evaluation["verdict"])
        if result.evaluation.get("intervals"):
            print(result.evaluation["intervals"])
    print(f"{result.budget}; run directory: {result.output_dir}")
    return unfinished


def forecast_main(argv: Sequence[str]) -> int:
    """``lstm-tuner forecast --model DIR --csv FILE [--output OUT] [--backtest] [--future FILE]``."""
    del argv
    for flag in (_MODEL, _CSV):
        if not flag.value:
            _fail(f"forecast: --{flag.name} is required")
    from lstm_tuner.files import write_text_atomic
    from lstm_tuner.serving.forecast import forecast_csv

    try:
        with console.filtered_stderr() if _FILTER_TF_NOISE else contextlib.nullcontext():
            text = forecast_csv(
                _MODEL.value, _CSV.value, backtest=_BACKTEST.value, future_path=_FUTURE.value
            )
    except (ConfigError, DataError) as e:
        _fail(str(e))
    if _OUTPUT.value:
        write_text_atomic(_OUTPUT.value, text)
    else:
        sys.stdout.write(text)
    return 0


def run() -> None:
    """Console-script entry point: the search, or ``lstm-tuner forecast``."""
    if "--version" in sys.argv[1:]:
        print(f"lstm-tuner {__version__}")
        sys.exit(0)
    if "--helpshort" in sys.argv[1:] or "--help" in sys.argv[1:] or "-h" in sys.argv[1:]:
        print(console.short_help(flags.FLAGS, __version__))
        sys.exit(0)
    if len(sys.argv) > 1 and sys.argv[1] == "forecast":
        del sys.argv[1]
        app.run(forecast_main, flags_parser=parse_flags)
    flags.mark_flag_as_required("config")
    app.run(main, flags_parser=parse_flags)


if __name__ == "__main__":
    run()
