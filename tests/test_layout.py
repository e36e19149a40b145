"""The layout follows what ships: dependencies point one way.

skill (the voice app) <- webhook (HTTP host) <- simulator, deploy, bench, tools, tests.
tools/ (measuring only: the device-side estimate) is an outer layer, and what
it needs (scikit-learn) never reaches anything that ships.
Checked on the source's import statements, so a stray import fails here
before it ever reaches a package.
"""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TOP_PACKAGES = ("skill", "webhook", "simulator", "deploy", "bench", "testkit", "tools", "tests")
# Which of our own top-level packages each part may import.
ALLOWED = {
    "skill": {"skill"},
    "lambda_handler.py": {"skill"},
    "webhook": {"skill", "webhook"},
    "simulator": {"skill", "webhook", "simulator", "deploy"},
    "deploy": {"skill", "deploy", "lambda_handler"},
    "testkit": {"skill", "webhook", "testkit"},
    "bench": {"skill", "webhook", "simulator", "deploy", "bench", "testkit", "lambda_handler"},
    "tools": {"skill", "simulator", "deploy", "tools", "lambda_handler"},
    "tests": set(TOP_PACKAGES) | {"lambda_handler"},
}


def all_imports(path: Path) -> set[str]:
    """Top-level names of every absolute import in a file; relative ones stay inside it."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def imported_packages(path: Path) -> set[str]:
    """Our own top-level packages a file imports."""
    return all_imports(path) & (set(TOP_PACKAGES) | {"lambda_handler"})


def test_dependencies_point_one_way():
    wrong = []
    for part, allowed in ALLOWED.items():
        files = [ROOT / part] if part.endswith(".py") else sorted((ROOT / part).rglob("*.py"))
        assert files, part
        for path in files:
            if "node_modules" in path.parts:
                continue
            extra = imported_packages(path) - allowed
            if extra:
                wrong.append(f"{path.relative_to(ROOT)} imports {sorted(extra)}")
    assert not wrong, "\n".join(wrong)


# Measuring tools (requirements-dev.txt only) that nothing shipped or hosted may import.
DEV_ONLY = frozenset({"sklearn", "numpy", "scipy"})


def test_what_ships_never_imports_the_measuring_tools():
    wrong = []
    for part in ("skill", "webhook", "simulator", "lambda_handler.py"):
        files = [ROOT / part] if part.endswith(".py") else sorted((ROOT / part).rglob("*.py"))
        for path in files:
            bad = all_imports(path) & (DEV_ONLY | {"tools"})
            if bad:
                wrong.append(f"{path.relative_to(ROOT)} imports {sorted(bad)}")
    assert not wrong, "\n".join(wrong)


def test_the_checker_sees_a_bad_import(tmp_path):
    module = tmp_path / "m.py"
    module.write_text("import os\nfrom simulator.nlu import X\nfrom . import y\nimport tests.envelopes\n")
    assert imported_packages(module) == {"simulator", "tests"}
