"""The package's layout rules: module imports form no cycle, no module outgrows 400 lines, and what
validates input (config, data) runs without TensorFlow."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "lstm_tuner"
MAX_LINES = 400


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _top_level_imports(path: Path, modules: set[str]) -> set[str]:
    """The ``lstm_tuner`` modules a module imports when it is imported (not inside functions, not
    under ``if TYPE_CHECKING``)."""
    found = set()
    for node in ast.parse(path.read_text()).body:
        if (
            isinstance(node, ast.ImportFrom)
            and node.module
            and node.module.startswith("lstm_tuner")
        ):
            base = node.module.removeprefix("lstm_tuner").lstrip(".")
            for alias in node.names:
                sub = f"{base}.{alias.name}" if base else alias.name
                found.add(sub if sub in modules else base)
        elif isinstance(node, ast.Import):
            found.update(
                a.name.removeprefix("lstm_tuner.")
                for a in node.names
                if a.name.startswith("lstm_tuner.")
            )
    return found


def _import_graph() -> dict[str, set[str]]:
    paths = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    modules = set(paths) - {""}
    return {
        name: _top_level_imports(path, modules) & modules - {name}
        for name, path in paths.items()
        if name
    }


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle, as a path that returns to its start, or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(module: str, path: list[str]) -> list[str] | None:
        state[module] = 1
        for dep in sorted(graph[module]):
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


def test_the_cycle_finder_finds_a_cycle():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b", "c"}, "b": {"c"}, "c": set()}) is None


def test_module_imports_form_no_cycle():
    graph = _import_graph()
    assert len(graph) > 30 and graph["engine.tuner"] >= {"engine.base_tuner", "engine.callbacks"}
    assert _cycle(graph) is None, " -> ".join(_cycle(graph))


def test_no_module_is_over_400_lines():
    sizes = {_module_name(p): len(p.read_text().splitlines()) for p in PACKAGE.rglob("*.py")}
    assert {name: n for name, n in sizes.items() if n > MAX_LINES} == {}


def test_config_and_data_validation_do_not_import_tensorflow(tmp_path):
    code = (
        "import sys\n"
        "import lstm_tuner\n"
        "from lstm_tuner.config import load_config\n"
        "from lstm_tuner.timeseries.series import load_data\n"
        "config = load_config(sys.argv[1])\n"
        "load_data(config.data)\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras')))\n"
    )
    baseline = PACKAGE.parent / "configs" / "lstm_baseline.yaml"
    proc = subprocess.run(
        [sys.executable, "-c", code, str(baseline)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=PACKAGE.parent,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip().splitlines()[-1] == "[]"
