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
from typing import Any

from screens.registry import declared_screens

ROOT = Path(__file__).resolve().parent.parent
CONTRACT_ID = "screens-independent"


def _contract() -> dict[str, Any]:
    """The contract as pyproject.toml declares it."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    contracts = config["tool"]["importlinter"]["contracts"]
    (contract,) = [c for c in contracts if c.get("id") == CONTRACT_ID]
    assert contract["name"] == "Screens are independent of each other"
    assert contract["type"] == "independence"
    return dict(contract)


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


def test_the_contract_covers_every_module_of_screens() -> None:
    """A new screen is under the contract without being listed: the contract says ``screens.*``."""
    assert _contract()["modules"] == ["screens.*"]


def test_only_bases_may_be_imported_by_screens() -> None:
    """The imports the contract lets be lead to bases only, never to a declared screen."""
    declared = {screen.__module__ for screen in declared_screens()}
    allowed = {
        rule.split(" -> ")[1] for rule in _contract()["ignore_imports"] if rule.startswith("screens.* -> ")
    }
    assert allowed and not allowed & declared, f"screens made into bases: {sorted(allowed & declared)}"


def test_contract_fails_on_a_screen_importing_another_even_deferred(tmp_path: Path) -> None:
    package = tmp_path / "screens"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "base.py").write_text("class PortalScreen:\n    pass\n")
    for name in ("login", "registration", "readings"):
        (package / f"{name}.py").write_text("from screens.base import PortalScreen\n")
    # A helper borrowed from another screen inside a method, as recovery once did from registration.
    (package / "recovery.py").write_text(
        "from screens.base import PortalScreen\n\n\ndef check():\n    from screens.registration import x\n"
    )
    contract = _contract()
    ignored = ",\n".join(f"    {rule!r}" for rule in contract["ignore_imports"])
    (tmp_path / "setup.toml").write_text(
        '[tool.importlinter]\nroot_packages = ["screens"]\n\n[[tool.importlinter.contracts]]\n'
        f'name = "{contract["name"]}"\nid = "{CONTRACT_ID}"\ntype = "independence"\n'
        'modules = ["screens.*"]\nunmatched_ignore_imports_alerting = "none"\n'
        f"ignore_imports = [\n{ignored}\n]\n"
    )
    result = _lint(tmp_path, tmp_path / "setup.toml")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "screens.recovery is not allowed to import screens.registration" in result.stdout
