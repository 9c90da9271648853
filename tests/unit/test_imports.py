"""The one-way import rules of STYLE.md, read from the source with `ast`, plus a real import of the CLI.

Rules: nothing imports `cli` (only `__main__`, the launcher); `model` never sees pandas; the data hops
(`io`, `timeindex`, `frame`, `windows`) never see torch; `cli`, `__init__` and `__main__` import no torch,
pandas or matplotlib at module level; matplotlib only in `plot`, joblib only in `parallel`; and the lower
hops never import the recipes built on them.
"""

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "forecast_cli"
HEAVY = {"torch", "pandas", "matplotlib"}
DATA_HOPS = {"io", "timeindex", "frame", "windows"}
LOWER = DATA_HOPS | {"model", "metrics", "baselines", "config", "errors", "atomic"}
RECIPES = {"fit", "predict", "evaluate", "train", "artifact", "report", "output", "progress", "plot", "cli"}


def _imports(module: str, top_level_only: bool = False) -> set[str]:
    """Every module name `module` imports (`a.b` gives `a` and `a.b`), at any depth or at module level only."""
    tree = ast.parse((PACKAGE / f"{module}.py").read_text())
    nodes = _module_level(tree.body) if top_level_only else list(ast.walk(tree))
    names: set[str] = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            full = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from . import x, from .x import y
                base = "forecast_cli" + (f".{base}" if base else "")
            full = [base] + [f"{base}.{alias.name}" for alias in node.names]
        else:
            continue
        for name in full:
            parts = name.split(".")
            names.update(".".join(parts[: i + 1]) for i in range(len(parts)))
    return names


def _module_level(body: list[ast.stmt]) -> list[ast.stmt]:
    """Statements that run on import: the body, and the bodies of module-level if/try blocks."""
    found = []
    for node in body:
        found.append(node)
        if isinstance(node, (ast.If, ast.Try)):
            for block in (node.body, node.orelse, getattr(node, "finalbody", []),
                          *[handler.body for handler in getattr(node, "handlers", [])]):
                found.extend(_module_level(block))
    return found


def _package_imports(module: str) -> set[str]:
    return {name.split(".")[1] for name in _imports(module) if name.startswith("forecast_cli.")}


MODULES = sorted(path.stem for path in PACKAGE.glob("*.py"))


def test_the_walker_sees_imports_inside_functions():
    """Guards the walker itself: cli.py imports fit only inside a command, and it must still be seen."""
    assert "forecast_cli.fit" in _imports("cli")
    assert "forecast_cli.fit" not in _imports("cli", top_level_only=True)
    assert "torch" in _imports("model") and "pandas" in _imports("frame")


@pytest.mark.parametrize("module", [m for m in MODULES if m not in ("cli", "__main__")])
def test_nothing_imports_cli(module):
    assert "cli" not in _package_imports(module)


def test_model_never_imports_pandas():
    assert "pandas" not in _imports("model")


@pytest.mark.parametrize("module", sorted(DATA_HOPS))
def test_data_hops_never_import_torch(module):
    assert "torch" not in _imports(module)


@pytest.mark.parametrize("module", ["cli", "__init__", "__main__"])
def test_entry_points_have_no_heavy_top_level_imports(module):
    assert not HEAVY & _imports(module, top_level_only=True)


@pytest.mark.parametrize("module", MODULES)
def test_matplotlib_only_in_plot_and_joblib_only_in_parallel(module):
    names = _imports(module)
    assert module == "plot" or "matplotlib" not in names
    assert module == "parallel" or "joblib" not in names


@pytest.mark.parametrize("module", sorted(LOWER & set(MODULES)))
def test_lower_hops_never_import_the_recipes_above_them(module):
    assert not RECIPES & _package_imports(module)


def test_importing_the_cli_loads_no_torch_pandas_or_matplotlib():
    """A real import, so a light module that imports a heavy one at its top is caught too; --help as well."""
    code = (
        "import contextlib, io, json, sys\n"
        "import forecast_cli.cli.app as cli\n"
        "after_import = sorted(m for m in %r if m in sys.modules)\n"
        "for args in (['--help'], ['fit', '--help'], ['predict', '--help'], ['evaluate', '--help'],\n"
        "             ['plot', '--help'], ['info', '--help']):\n"
        "    with contextlib.redirect_stdout(io.StringIO()):\n"
        "        try:\n"
        "            cli.app(args)\n"
        "        except SystemExit:\n"
        "            pass\n"
        "print(json.dumps([after_import, sorted(m for m in %r if m in sys.modules)]))\n"
    ) % (sorted(HEAVY), sorted(HEAVY))
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    after_import, after_help = json.loads(result.stdout.strip().splitlines()[-1])
    assert after_import == []
    assert after_help == []
