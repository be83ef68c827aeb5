"""The package's design, checked: the import graph of its modules (every import counted: module level,
inside functions, under ``TYPE_CHECKING``) has no cycle, each layer imports only what it may, and what
validates input (config, flags, data) runs without TensorFlow."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "lstm_tuner"

#: What each subpackage must never import (module names without ``lstm_tuner.``; a package's name
#: stands for all its modules).
NEVER = {
    "timeseries": ("engine", "job"),
    "engine": ("job", "config", "reporting"),
    "storage": ("job", "reporting"),
    "lstm": ("job",),
    "serving": ("engine", "job"),
}
#: The code that trains: reporting reaches none of it, directly or through other modules.
TRAINING = (
    "engine.base_tuner",
    "engine.callbacks",
    "engine.progress",
    "engine.session",
    "engine.strategy",
    "engine.tuner",
    "job",
    "lstm.fit_inputs",
    "lstm.layers",
    "lstm.model",
    "serving.export",
    "keras",
)


def _module_name(path: Path) -> str:
    """``engine.tuner`` for ``lstm_tuner/engine/tuner.py``; ``engine`` for its ``__init__.py``."""
    parts = path.relative_to(PACKAGE).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(source: str, package: str, modules: set[str]) -> set[str]:
    """Every ``lstm_tuner`` module (``""`` is the package itself) and every outside top-level package
    (``tensorflow``) that a module imports, wherever the import statement stands.

    Args:
        source: The module's code.
        package: Its package (``engine``; ``""`` at the top level), for relative imports.
        modules: The package's module names.
    """
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom):
            full = node.module or ""
            if node.level:
                full = ".".join(filter(None, ["lstm_tuner", package, full]))
            if full == "lstm_tuner" or full.startswith("lstm_tuner."):
                base = full.removeprefix("lstm_tuner").lstrip(".")
                for alias in node.names:
                    sub = f"{base}.{alias.name}" if base else alias.name
                    found.add(sub if sub in modules else base)
            else:
                found.add(full.split(".")[0])
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("lstm_tuner."):
                    found.add(alias.name.removeprefix("lstm_tuner."))
                else:
                    found.add(alias.name.split(".")[0])
    return found


def _import_graph() -> dict[str, set[str]]:
    """Module -> the modules and outside packages it imports."""
    paths = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    return {
        name: _imports(path.read_text(), ".".join(path.relative_to(PACKAGE).parts[:-1]), set(paths))
        - {name}
        for name, path in paths.items()
    }


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle among the graph's modules, as a path that returns to its start, or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(module: str, path: list[str]) -> list[str] | None:
        state[module] = 1
        for dep in sorted(d for d in graph[module] if d in graph):
            if state.get(dep) == 1:
                return path[path.index(dep) :] + [dep]
            if dep not in state and (found := visit(dep, path + [dep])):
                return found
        state[module] = 2
        return None

    for module in sorted(graph):
        if module not in state and (found := visit(module, [module])):
            return found
    return None


def _within(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def _broken_rules(graph: dict[str, set[str]]) -> list[str]:
    """``a -> b`` for every import that a layer must never make."""
    return [
        f"{module} -> {dep}"
        for module, deps in sorted(graph.items())
        for layer, never in NEVER.items()
        if _within(module, layer)
        for dep in sorted(deps)
        if any(_within(dep, n) for n in never)
    ]


def _reaches(graph: dict[str, set[str]], start: str) -> set[str]:
    """Everything ``start`` imports, directly or through other modules (importing ``engine.results``
    runs ``engine/__init__.py`` too)."""
    seen: set[str] = set()
    todo = [start]
    while todo:
        module = todo.pop()
        parents = [".".join(module.split(".")[:i]) for i in range(1, module.count(".") + 1)]
        for dep in [*graph.get(module, ()), *parents]:
            if dep not in seen:
                seen.add(dep)
                todo.append(dep)
    return seen


def _imported_by(code: str, *args: str) -> list[str]:
    """The TensorFlow and Keras modules loaded once ``code`` has run in a fresh interpreter."""
    check = "\nprint(sorted(m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras')))"
    proc = subprocess.run(
        [sys.executable, "-c", "import sys\n" + code + check, *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=PACKAGE.parent,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout.strip().splitlines()[-1]


def test_the_checks_find_what_they_look_for():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b", "c", "numpy"}, "b": {"c"}, "c": set()}) is None
    graph = {"engine.tuner": {"job.run", "storage.study"}, "timeseries.series": {"config.schema"}}
    assert _broken_rules(graph) == ["engine.tuner -> job.run"]
    assert _reaches({"a": {"c.d"}, "c": {"keras"}, "c.d": set(), "e": {"x"}}, "a") == {
        "c",
        "c.d",
        "keras",
    }


def test_the_graph_counts_every_import():
    source = (
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from lstm_tuner.engine.tuner import Tuner\n"
        "def f():\n    from lstm_tuner.storage import study\n    import tensorflow\n"
        "    from . import scaler\n"
    )
    modules = {"engine.tuner", "storage.study", "timeseries.scaler"}
    assert _imports(source, "timeseries", modules) == {
        "typing",
        "engine.tuner",
        "storage.study",
        "tensorflow",
        "timeseries.scaler",
    }
    graph = _import_graph()
    assert len(graph) > 40
    assert graph["engine.tuner"] >= {"engine.base_tuner", "engine.callbacks", "tensorflow"}


def test_module_imports_form_no_cycle():
    graph = _import_graph()
    assert _cycle(graph) is None, " -> ".join(_cycle(graph))


def test_each_layer_imports_only_what_it_may():
    assert _broken_rules(_import_graph()) == []


def test_reporting_never_reaches_training_code():
    graph = _import_graph()
    reporting = [module for module in graph if _within(module, "reporting")]
    assert len(reporting) >= 4
    found = {
        module: sorted(d for d in _reaches(graph, module) if any(_within(d, t) for t in TRAINING))
        for module in reporting
    }
    assert found == {module: [] for module in reporting}
    # TensorFlow stands only inside the functions that build datasets (timeseries.windows), which
    # reporting never calls: importing it loads neither TensorFlow nor Keras.
    code = "import lstm_tuner.reporting.search_plots, lstm_tuner.reporting.model_plots"
    assert _imported_by(code) == "[]"


def test_config_and_data_validation_do_not_import_tensorflow():
    code = (
        "import lstm_tuner.config\n"
        "from lstm_tuner.config import load_config\n"
        "from lstm_tuner.timeseries.series import load_data\n"
        "config = load_config(sys.argv[1])\n"
        "load_data(config.data)\n"
    )
    assert _imported_by(code, str(PACKAGE.parent / "configs" / "lstm_baseline.yaml")) == "[]"


def test_the_cli_parses_its_flags_without_tensorflow():
    code = (
        "from absl import flags\n"
        "from lstm_tuner import cli\n"
        "cli.parse_flags(['lstm-tuner', '--config', 'configs/lstm_baseline.yaml', '--study-name=x'])\n"
        "assert flags.FLAGS.study_name == 'x', flags.FLAGS.study_name\n"
    )
    assert _imported_by(code) == "[]"
