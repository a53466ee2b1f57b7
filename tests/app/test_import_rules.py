"""The package layering holds: parts import one way, no circles, demo code reached from the top.

The contracts live in pyproject.toml ([tool.importlinter]); import-linter checks them. Each
contract is also run on a copy of the tree with one forbidden import added, to show it bites.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint_imports(tree: Path) -> subprocess.CompletedProcess:
    """Run import-linter on a source tree with the project's contracts."""
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=tree,
        env={"PYTHONPATH": str(tree), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def tree_copy(tmp_path) -> Path:
    """A copy of the packages and the contracts, to add a forbidden import to."""
    for package in ("app", "cds_hooks"):
        shutil.copytree(REPO / package, tmp_path / package, ignore=shutil.ignore_patterns("*.pyc"))
    shutil.copy(REPO / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def add_import(tree: Path, module: str, statement: str) -> None:
    """Append an import statement to a module of the copied tree."""
    path = tree / (module.replace(".", "/") + ".py")
    path.write_text(path.read_text(encoding="utf-8") + f"\n{statement}\n", encoding="utf-8")


def test_the_code_keeps_every_import_contract():
    result = lint_imports(REPO)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Contracts: 2 kept, 0 broken." in result.stdout


@pytest.mark.parametrize(
    ("module", "statement", "complaint"),
    [
        # CDS matching reaching forward into the ledger (credit comes after the card)
        ("cds_hooks.matching", "import app.ledger.chain", "cds_hooks is not allowed to import"),
        # learning reaching forward into outcomes
        ("app.learning.recommend", "import app.outcomes.cases", "app.learning is not allowed"),
        # production code importing the demo and synthetic code
        ("app.outcomes.measures", "import app.devtools.synthetic.dataset", "app.outcomes is not"),
        # the neutral FHIR-JSON helpers reaching up into CDS
        ("app.fhir_json", "import cds_hooks.patient_context", "app.fhir_json is not allowed"),
    ],
)
def test_a_backward_import_breaks_the_layering(tree_copy, module, statement, complaint):
    add_import(tree_copy, module, statement)
    result = lint_imports(tree_copy)
    assert result.returncode == 1
    assert "Bedside's parts import one way BROKEN" in result.stdout
    assert complaint in result.stdout


def test_an_import_circle_inside_a_package_is_refused(tree_copy):
    add_import(tree_copy, "app.ledger.chain", "import app.ledger.store")
    result = lint_imports(tree_copy)
    assert result.returncode == 1
    assert "No cycles are allowed in app.ledger." in result.stdout
