"""The import graph of the package, read from the source with `ast`: no cycle, and the folder rules.

Every import counts: at module level, inside functions and under `if TYPE_CHECKING:`. The rules
(README, Development): `cli/` → the API and the verbs → `forward`, `predictors`, `nn/`, `store/`,
`data/` → `config`, `errors`. Nothing imports `cli/`; `data/` never sees torch and imports only
itself, `config` and `errors`; `nn/` never sees pandas and imports only itself, `config` and
`errors`; `store/` imports no verb; no verb imports another except `plot`, which draws what
`evaluate` scores; matplotlib only in `plot`. A real import checks that `forecast --help` loads no
torch, pandas or matplotlib.
"""

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "forecast_cli"
HEAVY = {"torch", "pandas", "matplotlib"}
VERBS = {"fitting", "predict", "evaluate", "plot", "backtesting", "plot_many"}
BASE = {"config", "errors"}


def _module_name(path: Path) -> str:
    """forecast_cli/data/frame.py -> 'data.frame'; forecast_cli/cli/__init__.py -> 'cli'."""
    parts = list(path.relative_to(PACKAGE).with_suffix("").parts)
    if parts[-1] == "__init__" and len(parts) > 1:
        parts = parts[:-1]
    return ".".join(parts)


MODULES = {_module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def _imports(module: str, top_level_only: bool = False) -> set[str]:
    """Every absolute module name `module` imports (`a.b.c` gives `a`, `a.b` and `a.b.c`)."""
    tree = ast.parse(MODULES[module].read_text())
    nodes = _module_level(tree.body) if top_level_only else list(ast.walk(tree))
    names: set[str] = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            full = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{module}: relative imports are not used in this package"
            full = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
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


def _edges(module: str) -> set[str]:
    """The package's own modules that `module` imports, by what each statement names: `from
    forecast_cli.data.frame import Frame` is an edge to data.frame (its parent packages load as a
    side effect, not as a dependency); `from forecast_cli import fitting` to the submodule;
    `import forecast_cli` or `from forecast_cli import fit` to the package's __init__."""
    edges = set()
    for node in ast.walk(ast.parse(MODULES[module].read_text())):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            submodules = [f"{node.module}.{alias.name}" for alias in node.names]
            targets = [name for name in submodules if name.split(".", 1)[-1] in MODULES] or [node.module]
        else:
            continue
        for name in targets:
            if name == "forecast_cli":
                edges.add("__init__")
            elif name.startswith("forecast_cli.") and name[len("forecast_cli."):] in MODULES:
                edges.add(name[len("forecast_cli."):])
    return edges - {module}


GRAPH = {module: _edges(module) for module in MODULES}


def _folder(module: str) -> str:
    return module.split(".")[0]


def test_the_walker_sees_imports_inside_functions_and_under_type_checking():
    """Guards the walker itself: cli/app imports the package only inside commands, and it must still be seen."""
    assert "__init__" in GRAPH["cli.app"] and "forecast_cli" not in _top_level_import_statements("cli.app")
    assert "fitting" in GRAPH["api"] and "fitting" not in _edges_at_top("api")
    assert "torch" in _imports("nn.model") and "pandas" in _imports("data.frame")
    assert "api" in _edges("__init__")  # under `if TYPE_CHECKING:` and inside __getattr__


def _top_level_import_statements(module: str) -> set[str]:
    """What `import X` statements at module level name (not `from X import`)."""
    return {alias.name for node in _module_level(ast.parse(MODULES[module].read_text()).body)
            if isinstance(node, ast.Import) for alias in node.names}


def _edges_at_top(module: str) -> set[str]:
    return {name[len("forecast_cli."):] for name in _imports(module, top_level_only=True)
            if name.startswith("forecast_cli.")}


def test_there_is_no_import_cycle_in_the_package():
    """Depth-first search over every import, function-local and type-only ones included."""
    state: dict[str, str] = {}

    def visit(module: str, path: list[str]) -> None:
        state[module] = "open"
        for target in sorted(GRAPH.get(module, ())):
            if state.get(target) == "open":
                cycle = path[path.index(target):] + [target] if target in path else [module, target]
                pytest.fail("import cycle: " + " -> ".join(cycle))
            if target not in state:
                visit(target, path + [target])
        state[module] = "done"

    for module in sorted(GRAPH):
        if module not in state:
            visit(module, [module])


@pytest.mark.parametrize("module", sorted(m for m in GRAPH if _folder(m) != "cli" and m != "__main__"))
def test_nothing_imports_the_cli(module):
    assert not any(_folder(target) == "cli" for target in GRAPH[module])


@pytest.mark.parametrize("module", sorted(m for m in GRAPH if _folder(m) == "data"))
def test_data_imports_only_itself_config_and_errors_and_never_torch(module):
    assert all(_folder(target) == "data" or target in BASE for target in GRAPH[module]), GRAPH[module]
    assert "torch" not in _imports(module)


@pytest.mark.parametrize("module", sorted(m for m in GRAPH if _folder(m) == "nn"))
def test_nn_imports_only_itself_config_and_errors_and_never_pandas(module):
    assert all(_folder(target) == "nn" or target in BASE for target in GRAPH[module]), GRAPH[module]
    assert "pandas" not in _imports(module)


@pytest.mark.parametrize("module", sorted(m for m in GRAPH if _folder(m) == "store"))
def test_store_imports_no_verb_and_nothing_above_the_folders(module):
    allowed = {"store", "nn", "data"}
    assert all(_folder(target) in allowed or target in BASE for target in GRAPH[module]), GRAPH[module]


@pytest.mark.parametrize("module", sorted(VERBS))
def test_verbs_do_not_import_each_other_or_the_api(module):
    allowed = {"plot": {"evaluate"}, "plot_many": {"evaluate", "plot"}}  # plots draw what evaluate scores
    others = VERBS - {module} - allowed.get(module, set())
    assert not (others | {"api"}) & GRAPH[module], GRAPH[module]


@pytest.mark.parametrize("module", sorted(MODULES))
def test_matplotlib_only_in_plot(module):
    assert module == "plot" or "matplotlib" not in _imports(module)


@pytest.mark.parametrize("module", ["cli.app", "cli", "__init__", "__main__", "api"])
def test_entry_points_have_no_heavy_top_level_imports(module):
    assert not HEAVY & _imports(module, top_level_only=True) or module == "api"
    if module == "api":  # the API module itself may need pandas types, but never torch or matplotlib up front
        assert not {"torch", "matplotlib"} & _imports(module, top_level_only=True)


def test_importing_the_cli_and_the_package_loads_no_torch_pandas_or_matplotlib():
    """A real import, so a light module that imports a heavy one at its top is caught too; --help as well."""
    code = (
        "import contextlib, io, json, sys\n"
        "import forecast_cli\n"
        "import forecast_cli.cli.app as cli\n"
        "after_import = sorted(m for m in %r if m in sys.modules)\n"
        "for args in (['--help'], ['fit', '--help'], ['predict', '--help'], ['evaluate', '--help'],\n"
        "             ['plot', '--help'], ['info', '--help'], ['backtest', '--help']):\n"
        "    with contextlib.redirect_stdout(io.StringIO()):\n"
        "        try:\n"
        "            cli.app(args)\n"
        "        except SystemExit:\n"
        "            pass\n"
        "print(json.dumps([after_import, sorted(m for m in %r if m in sys.modules)]))\n"
    ) % (sorted(HEAVY), sorted(HEAVY | {"markdown_it"}))
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    after_import, after_help = json.loads(result.stdout.strip().splitlines()[-1])
    assert after_import == []
    assert after_help == []  # markdown_it too: rich's help renderer alone doubled the cost of --help
