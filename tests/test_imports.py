"""Every entry module imports first, in a fresh interpreter: no import cycle depends on import order."""

from __future__ import annotations

import subprocess
import sys

import pytest

MODULES = [
    "reconciler.connectors.base",
    "reconciler.playbook",
    "reconciler.engine.core",
    "reconciler.engine.context",
    "reconciler.cli",
    "reconciler.expressions",
    "reconciler.store.lock",
]


@pytest.mark.parametrize("module", MODULES)
def test_module_imports_first_in_a_fresh_interpreter(module: str) -> None:
    # a fresh process: modules already imported by the test run would hide a cycle
    result = subprocess.run([sys.executable, "-c", f"import {module}"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_connectors_base_does_not_import_the_playbook_at_run_time() -> None:
    code = "import sys, reconciler.connectors.base; print('reconciler.playbook' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
