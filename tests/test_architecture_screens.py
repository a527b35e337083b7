"""The screens are independent of each other: an import-linter contract (pyproject.toml) that fails.

A screen that needs what another screen has imports it from ``tui/`` (no Textual), ``widgets/`` or a
declared base instead. The contract is run as ``lint-imports`` runs it, and once on a copy of its
configuration over a small tree where one screen imports another inside a function, so a deferred
import is seen too.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from screens.registry import declared_screens

ROOT = Path(__file__).resolve().parent.parent
CONTRACT_ID = "screens-independent"


def _contract_modules() -> list[str]:
    """The screen modules the contract holds independent of each other, as pyproject.toml lists them."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    contracts = config["tool"]["importlinter"]["contracts"]
    (contract,) = [c for c in contracts if c.get("id") == CONTRACT_ID]
    assert contract["name"] == "Screens are independent of each other"
    assert contract["type"] == "independence"
    return [str(module) for module in contract["modules"]]


def _lint(cwd: Path, config: Path) -> subprocess.CompletedProcess[str]:
    code = (
        "import sys\n"
        "import importlinter.api  # sets import-linter up, as its command does\n"
        "from importlinter.application.use_cases import lint_imports\n"
        f"sys.exit(0 if lint_imports(config_filename={str(config)!r}, "
        f"limit_to_contracts=({CONTRACT_ID!r},), cache_dir=None, no_logo=True) else 1)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(cwd)}
    return subprocess.run(
        [sys.executable, "-c", code], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )


def test_screens_import_no_other_screen() -> None:
    result = _lint(ROOT, ROOT / "pyproject.toml")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "KEPT" in result.stdout


def test_every_declared_screen_is_in_the_contract() -> None:
    modules = set(_contract_modules())
    missing = {cls.__module__ for cls in declared_screens()} - modules
    assert not missing, f"add these screen modules to the contract {CONTRACT_ID!r}: {sorted(missing)}"


def test_contract_fails_on_a_screen_importing_another_even_deferred(tmp_path: Path) -> None:
    contract_modules = _contract_modules()
    package = tmp_path / "screens"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "base.py").write_text("class PortalScreen:\n    pass\n")
    for module in contract_modules:
        name = module.removeprefix("screens.")
        (package / f"{name}.py").write_text("from screens.base import PortalScreen\n")
    # A helper borrowed from another screen inside a method, as recovery once did from registration.
    (package / "recovery.py").write_text(
        "from screens.base import PortalScreen\n\n\ndef check():\n    from screens.registration import x\n"
    )
    modules = ",\n".join(f'    "{m}"' for m in contract_modules)
    (tmp_path / "setup.toml").write_text(
        '[tool.importlinter]\nroot_packages = ["screens"]\n\n[[tool.importlinter.contracts]]\n'
        f'name = "Screens are independent of each other"\nid = "{CONTRACT_ID}"\ntype = "independence"\n'
        f"modules = [\n{modules}\n]\n"
    )
    result = _lint(tmp_path, tmp_path / "setup.toml")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "screens.recovery is not allowed to import screens.registration" in result.stdout


@pytest.mark.parametrize(
    "module",
    [
        "screens.base",
        "screens.history_base",
        "screens.payment_base",
        "screens.form_base",
        "screens.readings_submitter",
        "screens.dialogs",
        "screens.registry",
    ],
)
def test_bases_are_not_in_the_contract(module: str) -> None:
    """The declared bases may be imported by every screen; listing one would forbid that."""
    assert module not in _contract_modules()
