"""The command line: ``lstm-tuner`` and ``scripts/hparam_search.py``.

    python scripts/hparam_search.py --config configs/lstm_baseline.yaml --study-name my_hpo_study

Flags are parsed and the config is validated before TensorFlow is imported. Bad input ends with one line
on stderr and exit code 2; nothing is created.
"""

from __future__ import annotations

import dataclasses
import logging as std_logging
import os
import signal
import sys
from collections.abc import Sequence

from absl import app, flags, logging

from lstm_tuner.errors import ConfigError, DataError, FatalError

STRATEGIES = ("auto", "default", "mirrored", "one_device")
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
_N_TRIALS = flags.DEFINE_integer("n_trials", None, "Trials to run to; overrides study.n_trials.")
_SEED = flags.DEFINE_integer("seed", None, "Seed of sampler and training; overrides study.seed.")
_OVERRIDE = flags.DEFINE_multi_string(
    "override", [], "Config override key.path=value, typed by the config schema (repeatable)."
)
_OVERWRITE = flags.DEFINE_boolean("overwrite", False, "Delete the study and start afresh.")
_STRATEGY = flags.DEFINE_string(
    "strategy", "auto", f"tf.distribute strategy, one of {', '.join(STRATEGIES)}."
)
_RETRAIN_EPOCHS = flags.DEFINE_integer(
    "retrain_epochs",
    None,
    "After the search, retrain the best configuration for this many epochs (early stopping), evaluate "
    "on the test split and export export/final/. Overrides training.retrain_epochs.",
)
_WORKERS = flags.DEFINE_integer(
    "workers",
    1,
    "Start this many local worker processes on the run's study and wait for them (one GPU each, round "
    "robin, when there are GPUs). On CPU only, workers share the cores.",
    lower_bound=1,
)
_WORKER = flags.DEFINE_boolean(
    "worker",
    False,
    "Run trials only, as one of several workers; the process that started the workers writes the run "
    "directory. Set by --workers.",
)
_VERBOSE = flags.DEFINE_integer(
    "verbose", 0, "Keras fit verbosity: 0 quiet, 1 progress bar, 2 per epoch."
)
_NO_PLOTS = flags.DEFINE_boolean(
    "no_plots", False, "Write no PNG plots (for headless minimal installs without matplotlib)."
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
    if not _CONFIG.value:
        _fail("--config is required, e.g. --config configs/lstm_baseline.yaml")
    if _STRATEGY.value not in STRATEGIES:
        _fail(f"--strategy: must be one of {list(STRATEGIES)}, got {_STRATEGY.value!r}")
    for flag in (_N_TRIALS, _RETRAIN_EPOCHS):
        if flag.value is not None and flag.value < (1 if flag is _N_TRIALS else 0):
            _fail(
                f"--{flag.name}: must be {'> 0' if flag is _N_TRIALS else '>= 0'}, got {flag.value}"
            )
    return remaining


def main(argv: Sequence[str]) -> int:
    """Loads the config, runs the search, prints the summary."""
    del argv
    logging.set_verbosity(logging.WARNING)  # quiet until the input is known to be good
    from lstm_tuner.config import load_config  # no TensorFlow: validate before the slow import

    overrides = list(_OVERRIDE.value)
    if _N_TRIALS.value is not None:
        overrides.append(f"study.n_trials={_N_TRIALS.value}")
    if _SEED.value is not None:
        overrides.append(f"study.seed={_SEED.value}")
    if _RETRAIN_EPOCHS.value is not None:
        overrides.append(f"training.retrain_epochs={_RETRAIN_EPOCHS.value}")
    try:
        config = load_config(_CONFIG.value, overrides)
    except ConfigError as e:
        _fail(str(e))
    study_name = _STUDY_NAME.value or os.path.splitext(os.path.basename(_CONFIG.value))[0]
    output_dir = _OUTPUT_DIR.value or os.path.join("runs", study_name)

    # Data and storage are checked before TensorFlow is imported, so bad input costs a second, not ten.
    from lstm_tuner import study as study_lib
    from lstm_tuner.data import load_data

    try:
        data = load_data(config.data)
    except DataError as e:
        _fail(str(e))
    if _STORAGE.value is not None:
        try:
            study_lib.open_storage(_STORAGE.value)
        except ValueError as e:
            _fail(f"--storage: {e}")

    logging.set_verbosity(logging.INFO)
    # TensorFlow logs SavedModel-writing details at INFO through the same handler; keep them out.
    std_logging.getLogger("tensorflow").setLevel(std_logging.WARNING)
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)  # our per-trial lines replace Optuna's
    from lstm_tuner.run import RunOptions
    from lstm_tuner.run import run as run_job

    options = RunOptions(
        study_name=study_name,
        output_dir=output_dir,
        storage=_STORAGE.value,
        # A worker never deletes the study: the process that started the workers already did.
        overwrite=_OVERWRITE.value and not _WORKER.value,
        strategy=_STRATEGY.value,
        verbose=_VERBOSE.value,
        plots=not _NO_PLOTS.value,
        search_only=_WORKER.value,
    )
    # SIGTERM (a scheduler, `kill`) ends the running trial like Ctrl-C: recorded FAIL, study resumable.
    signal.signal(signal.SIGTERM, _raise_keyboard_interrupt)
    try:
        if _WORKERS.value > 1 and not _WORKER.value:
            from lstm_tuner.run import run_workers

            command = [sys.executable, "-m", "lstm_tuner.cli", *sys.argv[1:], "--worker"]
            failed = run_workers(config, options, _WORKERS.value, command, data=data)
            if failed:
                _fail(
                    f"{len(failed)} of {_WORKERS.value} workers failed (exit codes {failed})",
                    EXIT_FAILED,
                )
            options = dataclasses.replace(
                options, overwrite=False
            )  # done before the workers started
        result = run_job(config, options, data=data)
    except (ConfigError, DataError) as e:
        _fail(str(e))
    except FatalError as e:
        _fail(str(e), EXIT_FAILED)
    except KeyboardInterrupt:
        print(
            f"lstm-tuner: interrupted; the study is saved, rerun the same command to resume "
            f"(run directory {output_dir})",
            file=sys.stderr,
        )
        return EXIT_INTERRUPTED
    if _WORKER.value:
        print(
            f"worker {os.getpid()}: {result.finished_trials} of {result.n_trials} trials complete"
        )
        return 0
    print(result.summary)
    print(
        f"{result.finished_trials} of {result.n_trials} trials complete; run directory: {result.output_dir}"
    )
    return 0


def run() -> None:
    """Console-script entry point."""
    app.run(main, flags_parser=parse_flags)


if __name__ == "__main__":
    run()
