"""Rules about the shape of the code: the pricing and routing core stays pure."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PURE = [
    "sim_request.py",
    "sim_pools.py",
    "otc_types.py",
    "router.py",
    "otc_engine.py",
    "tokens.py",
    "sim_dex.py",
    "allocator.py",
    "venue_curves.py",
    "explanations.py",
]
FORBIDDEN = {"flask", "sqlalchemy", "flask_sqlalchemy", "requests", "models", "random", "time"}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("module", PURE)
def test_pricing_and_routing_modules_import_no_io(module: str) -> None:
    assert not (_imports(ROOT / module) & FORBIDDEN)


def test_only_jupiter_api_imports_requests() -> None:
    users = [p.name for p in ROOT.glob("*.py") if "requests" in _imports(p)]
    assert users == ["jupiter_api.py"]


def test_money_modules_never_call_float() -> None:
    for name in ["router.py", "otc_engine.py", "tokens.py", "trade_logger.py", "services.py", "allocator.py",
                 "venue_curves.py", "cost_curves.py"]:
        tree = ast.parse((ROOT / name).read_text())
        calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call) and getattr(n.func, "id", "") == "float"]
        assert not calls, f"float() in {name}"
