"""The core layer is packaged by capability over shared foundations: nothing imports upward, and a
capability reaches another only through that package's public names."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

CORE = Path(__file__).resolve().parents[2] / "layers" / "core" / "python" / "mtcore"
# Lower ranks may be imported by higher ones, never the other way round.
RANKS = {
    "foundation": 0,  # settings, errors, ids, aws, observability, models
    "metaapi": 1,
    "store": 1,
    "accounts": 2,
    "market": 3,
    "portfolio": 3,
    "risk": 3,
    "trading": 4,
    "sync": 5,
    "signals": 5,
    "provisioning": 6,
    "realtime": 6,
    "notifications": 6,
}
CAPABILITIES = {
    "accounts",
    "market",
    "portfolio",
    "risk",
    "trading",
    "sync",
    "signals",
    "provisioning",
    "realtime",
    "notifications",
}


def _package_of(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in RANKS else "foundation"


def _imports(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("mtcore"):
            found.append(node.module)
        elif isinstance(node, ast.Import):
            found += [alias.name for alias in node.names if alias.name.startswith("mtcore")]
    return found


MODULES = sorted(CORE.rglob("*.py"))


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(CORE)))
def test_nothing_imports_upward_and_capabilities_meet_through_public_names(path: Path) -> None:
    importer = "mtcore." + ".".join(path.relative_to(CORE).with_suffix("").parts)
    own = _package_of(importer)
    for imported in _imports(path):
        other = _package_of(imported)
        assert RANKS[other] <= RANKS[own], f"{importer} imports {imported}, above it"
        if other in CAPABILITIES and other != own:
            assert imported == f"mtcore.{other}", f"{importer} reaches into {imported}: use mtcore.{other}"


def test_every_module_belongs_to_a_known_package() -> None:
    packages = {path.relative_to(CORE).parts[0] for path in MODULES if len(path.relative_to(CORE).parts) > 1}
    assert packages <= set(RANKS)
