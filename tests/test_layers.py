"""Dependencies point one way: telephony -> voice, dialogue; never back."""

import ast
from pathlib import Path

import pytest
from support import ROOT

FORBIDDEN = {
    "voice": {"dialogue", "telephony", "loket"},
    "dialogue": {"voice", "telephony", "loket"},
    "telephony": {"loket"},
}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_import_direction(package):
    root = ROOT / package
    if not root.is_dir():
        pytest.skip(f"{package}/ does not exist yet")
    for path in root.rglob("*.py"):
        bad = _imports(path) & FORBIDDEN[package]
        assert not bad, f"{path.relative_to(ROOT)} imports {sorted(bad)}"
