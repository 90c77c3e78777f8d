"""Rules about the shape of the code: layers whose arrows point down, no import cycles, a pure core.

Every project module is read with `ast` (no import is executed). A module's layer is its package folder; the six
design-card modules at the root are the front doors of their layers. The table is DESIGN.md §2.
"""
from __future__ import annotations

import ast
import sys
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("core", "sim", "venues", "ledger", "read", "services", "web", "cli")
ROOT_LAYER = {"otc_engine": "core", "jupiter_api": "venues", "models": "ledger", "trade_logger": "ledger",
              "app": "root", "main": "root"}
MAY_IMPORT = {
    "core": {"core"},
    "sim": {"sim", "core"},
    "venues": {"venues", "core"},
    "ledger": {"ledger", "core"},
    "read": {"read", "ledger", "core"},
    "services": {"services", "read", "ledger", "venues", "core"},
    "web": {"web", "services", "read", "ledger", "venues", "sim", "core"},
    "cli": {"cli", "services", "read", "ledger", "venues", "sim", "core"},
    "root": set(PACKAGES) | {"root"},
}
# Function-level imports of project modules that are allowed, each with its reason. Nothing else may hide an import.
ALLOWED_LOCAL_IMPORTS: dict[tuple[str, str], str] = {}
ROOT_FILES = {"app.py", "main.py", "models.py", "jupiter_api.py", "otc_engine.py", "trade_logger.py",
              "gunicorn.conf.py"}


def _module_name(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
    return ".".join(parts)


@cache
def modules() -> dict[str, Path]:
    """Every project module by dotted name (root modules and the layer packages)."""
    found = {p.stem: p for p in ROOT.glob("*.py") if p.name != "gunicorn.conf.py"}
    for pkg in PACKAGES:
        for path in (ROOT / pkg).rglob("*.py"):
            found[_module_name(path)] = path
    return found


def layer_of(module: str) -> str:
    """The layer a project module belongs to."""
    top = module.split(".")[0]
    return top if top in PACKAGES else ROOT_LAYER[top]


def _resolve(name: str) -> str | None:
    """The project module an import names (a package's module, or the package), or None for a library."""
    known = modules()
    while name:
        if name in known:
            return name
        name = name.rpartition(".")[0]
    return None


@cache
def imports(module: str) -> tuple[tuple[str, int, bool], ...]:
    """(imported project module, line, inside a function) for each project import of a module."""
    tree = ast.parse(modules()[module].read_text())
    found: list[tuple[str, int, bool]] = []

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            nested = in_function or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
            if isinstance(child, ast.Import):
                names = [a.name for a in child.names]
            elif isinstance(child, ast.ImportFrom) and child.level == 0 and child.module:
                names = [f"{child.module}.{a.name}" for a in child.names]
            else:
                names = []
            for name in names:
                target = _resolve(name)
                if target is not None and target != module:
                    found.append((target, child.lineno, in_function))
            visit(child, nested)

    visit(tree, False)
    return tuple(found)


def _library_imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names - set(PACKAGES) - set(ROOT_LAYER)


def test_the_root_holds_only_the_design_card_modules() -> None:
    assert {p.name for p in ROOT.glob("*.py")} == ROOT_FILES


@pytest.mark.parametrize("module", sorted(modules()))
def test_imports_point_down_the_layers(module: str) -> None:
    layer = layer_of(module)
    upward = [(target, line) for target, line, _ in imports(module) if layer_of(target) not in MAY_IMPORT[layer]]
    assert not upward, f"{module} ({layer}) imports above or beside its layer: {upward}"


def test_no_project_import_hides_inside_a_function() -> None:
    hidden = [f"{module}:{line} imports {target}" for module in sorted(modules())
              for target, line, local in imports(module) if local and (module, target) not in ALLOWED_LOCAL_IMPORTS]
    assert not hidden, "function-level imports of project modules:\n" + "\n".join(hidden)


def cycles() -> list[list[str]]:
    """Strongly connected components of more than one module in the project import graph (Tarjan)."""
    graph = {m: sorted({t for t, _, _ in imports(m) if modules()[t].name != "__init__.py"}) for m in modules()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def connect(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    for v in graph:
        if v not in index:
            connect(v)
    return found


def test_no_import_cycles_among_project_modules() -> None:
    assert cycles() == []


CORE = sorted(m for m in modules() if layer_of(m) == "core")


@pytest.mark.parametrize("module", CORE)
def test_core_imports_the_standard_library_only(module: str) -> None:
    outside = {name for name in _library_imports(modules()[module]) if name not in sys.stdlib_module_names}
    assert not outside, f"{module} imports {outside}"


@pytest.mark.parametrize("module", CORE + sorted(m for m in modules() if layer_of(m) == "sim"))
def test_pure_modules_read_no_clock_and_draw_no_randomness(module: str) -> None:
    assert not (_library_imports(modules()[module]) & {"time", "random", "secrets", "os", "socket", "threading"})


def test_only_the_venues_layer_speaks_http_or_redis() -> None:
    users = sorted(m for m, p in modules().items() if _library_imports(p) & {"requests", "redis", "httpx"})
    assert all(layer_of(m) == "venues" for m in users), users


def test_money_modules_never_call_float() -> None:
    money = [m for m in modules() if layer_of(m) in ("core", "ledger")]
    money += ["services.quoting", "services.trading", "services.execution", "services.market", "services.cost_curves"]
    for module in money:
        tree = ast.parse(modules()[module].read_text())
        calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call) and getattr(n.func, "id", "") == "float"]
        assert not calls, f"float() in {module}"


def test_the_checker_sees_an_upward_import_a_cycle_and_a_hidden_import(tmp_path: Path) -> None:
    """The rules above can fail: a fake tree with each fault is caught by the same functions."""
    global ROOT
    saved = ROOT
    try:
        ROOT = tmp_path
        for pkg in PACKAGES:
            (tmp_path / pkg).mkdir()
        (tmp_path / "core" / "a.py").write_text("from services import b\n")
        (tmp_path / "services" / "b.py").write_text("def f():\n    from core import a\n")
        modules.cache_clear()
        imports.cache_clear()
        assert [t for t, _, _ in imports("core.a")] == ["services.b"]
        assert layer_of("services.b") not in MAY_IMPORT["core"]
        assert imports("services.b") == (("core.a", 2, True),)
        assert cycles() == [["core.a", "services.b"]]
    finally:
        ROOT = saved
        modules.cache_clear()
        imports.cache_clear()
