"""The portal kit: one repository base for every domain, one password policy for every new password."""

from __future__ import annotations

import ast
import datetime as dt
import re
from pathlib import Path

import pytest

import portal.profile.service as profile_service
import portal.recovery.service as recovery_service
import portal.registration.service as registration_service
from portal.demo.accounts import DEMO_ACCOUNTS, DEMO_PASSWORD
from portal.kit.repository import Repository
from portal.models import AccessToken, Account, SandboxPayment, TokenKind, User
from portal.payments.sandbox.repository import SandboxRepository
from portal.profile.repository import ProfileRepository
from portal.recovery.repository import RecoveryRepository
from portal.security import password_policy
from portal.security.errors import PasswordsDiffer, WeakPassword
from tests.conftest import Portal

PORTAL = Path(__file__).resolve().parents[3] / "portal"
REGISTERED = next(demo for demo in DEMO_ACCOUNTS if demo.password == DEMO_PASSWORD)
UNREGISTERED = next(demo for demo in DEMO_ACCOUNTS if demo.password is None)


# --- the repository base -----------------------------------------------------------------------------


def _repository_classes() -> list[tuple[Path, ast.ClassDef]]:
    found = []
    for path in PORTAL.rglob("repository.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        found += [(path, node) for node in tree.body if isinstance(node, ast.ClassDef)]
    kit = PORTAL / "kit"
    return [
        (path, node) for path, node in found if node.name.endswith("Repository") and kit not in path.parents
    ]


def test_every_repository_is_built_on_the_base() -> None:
    classes = _repository_classes()
    assert len(classes) >= 12
    for path, node in classes:
        bases = [ast.unparse(base) for base in node.bases]
        assert any(base.startswith(("Repository[", "AccountRepository[")) for base in bases), (
            path,
            node.name,
        )
        defined = {
            item.name for item in node.body if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef)
        }
        assert "__init__" not in defined, (path, node.name)  # the base holds the session


def test_repositories_hold_their_sql_in_classes() -> None:
    """No repository module answers through module functions that take a session (as billing's did)."""
    for path in PORTAL.rglob("repository.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        loose = [node.name for node in tree.body if isinstance(node, ast.AsyncFunctionDef)]
        assert not loose, (path, loose)


def test_the_shared_lookups_are_written_once() -> None:
    """ "The account with this number" and adding-and-flushing live in the base only."""
    for path in PORTAL.rglob("*.py"):
        if path == PORTAL / "kit" / "repository.py":
            continue
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"\bAccount\.number ==", text), path
        assert "session.flush()" not in text or path.parent.name in {"demo", "kit"}, path


async def test_the_base_reads_and_writes(portal: Portal) -> None:
    async with portal.state.sessionmaker() as session:
        repo = RecoveryRepository(session)
        account = await repo.account_by_number(REGISTERED.account_number)
        assert isinstance(account, Account) and account.number == REGISTERED.account_number
        assert await repo.account_by_number("0000000") is None
        found = await repo.user_with_account(REGISTERED.account_number)
        assert found is not None and found[1].id == account.id and found[0].account_id == account.id
        assert await repo.user_with_account(UNREGISTERED.account_number) is None
        user = await ProfileRepository(session).user_of_account(account.id)
        assert isinstance(user, User) and user.id == found[0].id
        assert await ProfileRepository(session).get_by_id(user.id) is user

        now = portal.clock.now()
        token = AccessToken(
            token_hmac="kit-test",
            kind=TokenKind.RECOVERY,
            account_id=account.id,
            user_id=user.id,
            created_at=now,
            last_used_at=now,
            expires_at=now + dt.timedelta(minutes=5),
        )
        created = await repo.create(token, flush=True)
        assert created.id is not None  # flushed: the row has its key
        later = now + dt.timedelta(minutes=1)
        await repo.update(created, values={"last_used_at": later}, flush=True)
        fresh = await repo.get_by_id(created.id, fresh=True)
        assert fresh is not None and fresh.last_used_at.replace(tzinfo=dt.UTC) == later
        await session.rollback()
        assert await repo.get_by_id(created.id) is None  # nothing commits but the request's scope


async def test_a_repository_of_another_model(portal: Portal) -> None:
    async with portal.state.sessionmaker() as session:
        repo = SandboxRepository(session)
        assert repo.model is SandboxPayment
        assert isinstance(repo, Repository)
        assert await repo.get_one_or_none(repo.base_statement().where(SandboxPayment.id == "none")) is None


# --- the password policy -----------------------------------------------------------------------------


def test_one_policy_for_every_new_password() -> None:
    # What each service module has under the name (imported there, not re-exported).
    assert vars(recovery_service)["check_new_password"] is password_policy.check_new_password
    assert vars(profile_service)["check_new_password"] is password_policy.check_new_password
    assert vars(registration_service)["generate_password"] is password_policy.generate_password


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("short1", "не короче 8 символов"),
        ("x" * 129, "не длиннее 128 символов"),
        ("password1", "слишком распространён"),
        ("3500012007", "не должен совпадать с номером лицевого счета"),
        ("3500012007ab", "не должен совпадать с номером лицевого счета"),
    ],
)
def test_a_weak_password_is_refused_naming_the_field(password: str, reason: str) -> None:
    with pytest.raises(WeakPassword) as refused:
        password_policy.check_new_password(password, password, "3500012007")
    assert (refused.value.status_code, refused.value.code, refused.value.field) == (
        422,
        "weak_password",
        "new_password",
    )
    assert refused.value.message.startswith("Поле «Новый пароль»: ")
    assert reason in refused.value.message


def test_the_repeat_must_match() -> None:
    password_policy.check_new_password("Quiet-Harbour-Lamp-59", "Quiet-Harbour-Lamp-59", "3500012007")
    with pytest.raises(PasswordsDiffer) as refused:
        password_policy.check_new_password("Quiet-Harbour-Lamp-59", "Quiet-Harbour-Lamp-58", "3500012007")
    assert (refused.value.code, refused.value.field) == ("passwords_differ", "new_password_repeat")
    # A long password may contain the number: it is not the number.
    password_policy.check_new_password("3500012007-and-more", "3500012007-and-more", "3500012007")


def test_generated_passwords_keep_the_policy() -> None:
    passwords = {password_policy.generate_password() for _ in range(200)}
    assert len(passwords) == 200
    for password in passwords:
        assert len(password) == 12
        assert password_policy.password_problem(password, "3500012007") is None
        assert not set(password) & set("0O1lI")
