"""axe-core (from npm, pinned in tests/support/axe/package.json) run inside a Playwright page.

Installed by `make test` (npm ci); without Node.js the accessibility tests skip locally and fail
under CI, which installs Node.js first.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from functools import cache
from pathlib import Path

import pytest

AXE_DIR = Path(__file__).parent / "axe"
AXE_SCRIPT = AXE_DIR / "node_modules" / "axe-core" / "axe.min.js"
BLOCKING_IMPACTS = ("critical", "serious")


def axe_source() -> str:
    """The axe-core script, installed by npm when missing (see install_axe)."""
    if not AXE_SCRIPT.exists():
        install_axe()
    return read_axe()


@cache
def read_axe() -> str:
    """The installed axe-core script's text (read once per session)."""
    return AXE_SCRIPT.read_text(encoding="utf-8")


def install_axe() -> None:
    """Run `npm ci` in tests/support/axe (as `make test` does); skip only when npm is absent."""
    npm = shutil.which("npm")
    if npm is None:
        message = "accessibility tests need axe-core from npm, and npm is not installed"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{message} (.ci/run installs nodejs and npm)", pytrace=False)
        pytest.skip(f"{message} (apt-get install nodejs npm)")
    done = subprocess.run(
        [npm, "ci", "--no-audit", "--no-fund"],
        cwd=AXE_DIR,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if done.returncode != 0:
        pytest.fail(f"`npm ci` in {AXE_DIR} failed: {done.stderr.strip()[-500:]}", pytrace=False)


def blocking_violations(page) -> list[dict]:
    """axe-core's critical and serious violations on the page as it is now."""
    if not page.evaluate("typeof window.axe === 'object'"):
        page.evaluate(axe_source())  # evaluated by the DevTools protocol: the page's CSP allows it
    found = page.evaluate(
        """() => axe.run(document, {resultTypes: ['violations']}).then(result =>
            result.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help,
                targets: v.nodes.map(node => node.target.join(' ')),
            })))"""
    )
    return [violation for violation in found if violation["impact"] in BLOCKING_IMPACTS]


def describe(url: str, violations: list[dict]) -> str:
    """One line per violation: its rule id, impact, help text and the elements it names."""
    return "\n".join(
        f"{url}: {v['id']} ({v['impact']}) {v['help']}: {', '.join(v['targets'][:5])}"
        for v in violations
    )
