"""The layers as contracts that fail: pyproject's ``[tool.importlinter]``, run here in the suite.

``app.py`` → ``application/`` | ``hosting/`` → ``screens/`` → ``widgets/`` → ``tui/`` (no Textual, HTTP
only); only ``hosting/`` imports the portal, and the portal imports none of the app. import-linter reads
every import statement, so one inside a function breaks a contract as surely as one at the top: the
tests below plant such imports in a copy of the sources and see the contracts fail there.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from tests.support.imports import imported_after

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = ROOT / "pyproject.toml"
_SETTINGS = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["tool"]["importlinter"]
PACKAGES: list[str] = _SETTINGS["root_packages"]
#: Contract id → its name, as the report prints it.
CONTRACTS: dict[str, str] = {c.get("id", c["name"]): c["name"] for c in _SETTINGS["contracts"]}


def lint_imports(root: Path) -> str:
    """The contracts of pyproject.toml checked on the packages found in ``root``; the report.

    A fresh interpreter in ``root`` finds the packages there before any installed copy. Raises
    AssertionError when import-linter could not check at all (a contract naming a missing module).
    """
    command = (
        "import sys; from importlinter.cli import lint_imports_command; sys.exit(lint_imports_command())"
    )
    result = subprocess.run(
        [sys.executable, "-c", command, "--no-cache", "--no-logo", str(PYPROJECT)],
        cwd=root,
        env={**os.environ, "PYTHONPATH": str(root), "COLUMNS": "400", "NO_COLOR": "1"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    report = result.stdout + result.stderr
    assert "Contracts:" in report, report  # checked (kept or broken), not failed to start
    return report


def _kept(report: str) -> set[str]:
    return {contract_id for contract_id, name in CONTRACTS.items() if f"{name} KEPT" in report}


def _broken(report: str) -> set[str]:
    return {contract_id for contract_id, name in CONTRACTS.items() if f"{name} BROKEN" in report}


def test_the_contracts_hold() -> None:
    report = lint_imports(ROOT)
    assert _broken(report) == set(), report
    assert _kept(report) == set(CONTRACTS), report


def test_the_contracts_cover_every_package() -> None:
    """A new top-level package must be placed in the layers (pyproject's root_packages) to be checked."""
    packages = {path.parent.name for path in ROOT.glob("*/__init__.py")} - {"tests", "bench"}
    assert packages == set(PACKAGES)


@pytest.fixture(scope="module")
def pristine_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The packages' Python files copied elsewhere, with every contract kept there."""
    root = tmp_path_factory.mktemp("pristine")
    for package in PACKAGES:
        shutil.copytree(
            ROOT / package,
            root / package,
            ignore=lambda folder, names: [
                name for name in names if not name.endswith(".py") and not (Path(folder) / name).is_dir()
            ],
        )
    report = lint_imports(root)
    assert _kept(report) == set(CONTRACTS), report
    return root


#: (module file, what is planted at its end, the contracts it breaks, the import the report names)
PLANTED = [
    # the screens and widgets that use tui.formatting would then reach the portal too
    (
        "tui/formatting.py",
        "def _planted():\n    import portal.app\n",
        {"tui", "ui-over-http"},
        "tui.formatting -> portal.app",
    ),
    ("tui/config.py", "def _planted():\n    from textual.app import App\n", {"tui"}, "tui.config -> textual"),
    # and hosting, which uses tui.i18n, would reach a widget
    ("tui/i18n.py", "import widgets.keys\n", {"layers", "tui", "hosting"}, "tui.i18n -> widgets.keys"),
    (
        "widgets/keys.py",
        "def _planted():\n    import screens.base\n",
        {"layers"},
        "widgets.keys -> screens.base",
    ),
    (
        "screens/base.py",
        "def _planted():\n    from hosting.embedded import EmbeddedPortal\n",
        {"layers", "ui-over-http"},
        "screens.base -> hosting.embedded",
    ),
    (
        "screens/base.py",
        "def _planted():\n    from portal.demo.accounts import DEMO_PASSWORD\n",
        {"ui-over-http"},
        "screens.base -> portal.demo.accounts",
    ),
    (
        "screens/base.py",
        "def _planted():\n    from app import KabinetApp\n",
        {"entry-point"},
        "screens.base -> app",
    ),
    (
        "application/themes.py",
        "def _planted():\n    import hosting.embedded\n",
        {"layers", "ui-over-http"},
        "application.themes -> hosting.embedded",
    ),
    (
        "hosting/sshserver.py",
        "def _planted():\n    import textual\n",
        {"hosting"},
        "hosting.sshserver -> textual",
    ),
    (
        "portal/app.py",
        "def _planted():\n    from tui.client import PortalClient\n",
        {"portal"},
        "portal.app -> tui.client",
    ),
    (
        "portal/readings/repository.py",
        "def _planted():\n    from portal.readings import service\n",
        {"portal-domains"},
        "portal.readings.repository -> portal.readings.service",
    ),
]


@pytest.mark.parametrize(("module", "planted", "broken", "named"), PLANTED, ids=[row[3] for row in PLANTED])
def test_a_forbidden_import_breaks_its_contract(
    pristine_copy: Path, tmp_path: Path, module: str, planted: str, broken: set[str], named: str
) -> None:
    root = tmp_path / "src"
    shutil.copytree(pristine_copy, root)
    path = root / module
    path.write_text(path.read_text(encoding="utf-8") + "\n\n" + planted, encoding="utf-8")
    report = lint_imports(root)
    assert broken <= _broken(report), report  # (a planted import may break another contract as well)
    assert named in report, report


@pytest.mark.parametrize("module", ["hosting.embedded", "app"])
def test_the_portal_is_imported_only_when_the_embedded_one_starts(module: str) -> None:
    """The contracts say who may import the portal; this, when: not before the app's first paint.

    ``EmbeddedPortal.__aenter__`` imports it (~0.9 s) in a worker thread; importing the app or the
    embedded portal's module loads no part of it (nor, for hosting, Textual).
    """
    roots = {"portal", "textual"} if module.startswith("hosting") else {"portal"}
    assert imported_after(module, roots) == ""
