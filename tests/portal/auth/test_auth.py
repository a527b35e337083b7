"""Login, logout, sessions and their expiry, throttling of the login check."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from portal.demo.accounts import DEMO_PASSWORD, HAPPY_PATH_APARTMENT, UNREGISTERED_APARTMENT, account_number
from portal.models import AccessToken
from tests.conftest import Portal, PortalFactory

HAPPY = account_number(HAPPY_PATH_APARTMENT)
LOGIN = "/api/v1/auth/login"


async def test_login_opens_a_session_that_reads_the_account(portal: Portal) -> None:
    response = await portal.client.post(LOGIN, json={"account_number": HAPPY, "password": DEMO_PASSWORD})
    assert response.status_code == 200
    body = response.json()
    assert body["account_number"] == HAPPY
    assert len(body["token"]) >= 40
    headers = {"Authorization": f"Bearer {body['token']}"}
    session = await portal.client.get("/api/v1/auth/session", headers=headers)
    assert session.status_code == 200
    assert session.json()["account_number"] == HAPPY
    assert "token" not in session.json()


async def test_account_number_with_spaces_around_is_accepted(portal: Portal) -> None:
    response = await portal.client.post(
        LOGIN, json={"account_number": f" {HAPPY} ", "password": DEMO_PASSWORD}
    )
    assert response.status_code == 200


async def test_failures_are_uniform(portal: Portal) -> None:
    wrong_password = await portal.client.post(LOGIN, json={"account_number": HAPPY, "password": "nope-nope"})
    unregistered = await portal.client.post(
        LOGIN, json={"account_number": account_number(UNREGISTERED_APARTMENT), "password": DEMO_PASSWORD}
    )
    unknown = await portal.client.post(LOGIN, json={"account_number": "9999999999", "password": "x" * 10})
    for response in (wrong_password, unregistered, unknown):
        assert response.status_code == 401
        assert response.json()["code"] == "login_failed"
    assert wrong_password.json() == unregistered.json() == unknown.json()


async def test_bad_input_names_the_field(portal: Portal) -> None:
    response = await portal.client.post(LOGIN, json={"account_number": "abc", "password": "x"})
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "validation_error"
    assert body["field"] == "account_number"
    assert "Лицевой счет" in body["message"]
    missing = await portal.client.post(LOGIN, json={"account_number": HAPPY})
    assert missing.status_code == 422
    assert "Пароль" in missing.json()["message"]
    malformed = await portal.client.post(
        LOGIN, content=b"{not json", headers={"content-type": "application/json"}
    )
    assert malformed.status_code == 400  # not a field's value: a body the server cannot read
    assert malformed.json()["code"] == "invalid_json" and "JSON" in malformed.json()["message"]


async def test_only_an_hmac_of_the_token_is_stored(portal: Portal) -> None:
    headers = await portal.login(HAPPY, DEMO_PASSWORD)
    token = headers["Authorization"].split()[1]
    async with portal.state.sessionmaker() as session:
        stored = list(await session.scalars(select(AccessToken.token_hmac)))
    assert token not in stored
    assert portal.state.tokens.digest(token) in stored


async def test_logout_ends_the_session(portal: Portal) -> None:
    headers = await portal.login(HAPPY, DEMO_PASSWORD)
    assert (await portal.client.post("/api/v1/auth/logout", headers=headers)).status_code == 204
    after = await portal.client.get("/api/v1/auth/session", headers=headers)
    assert after.status_code == 401
    assert after.json()["code"] == "not_authenticated"


async def test_missing_and_forged_tokens_are_refused(portal: Portal) -> None:
    assert (await portal.client.get("/api/v1/auth/session")).status_code == 401
    forged = await portal.client.get("/api/v1/auth/session", headers={"Authorization": "Bearer forged"})
    assert forged.status_code == 401
    assert forged.headers["www-authenticate"] == "Bearer"


async def test_idle_session_expires(portal: Portal) -> None:
    headers = await portal.login(HAPPY, DEMO_PASSWORD)
    portal.clock.advance(dt.timedelta(minutes=portal.settings.session_idle_minutes - 1))
    assert (await portal.client.get("/api/v1/auth/session", headers=headers)).status_code == 200
    portal.clock.advance(dt.timedelta(minutes=portal.settings.session_idle_minutes + 1))
    expired = await portal.client.get("/api/v1/auth/session", headers=headers)
    assert expired.status_code == 401
    assert expired.json()["code"] == "session_expired"
    # The expired session is gone, not merely refused.
    again = await portal.client.get("/api/v1/auth/session", headers=headers)
    assert again.json()["code"] == "not_authenticated"


async def test_active_session_still_ends_at_its_absolute_limit(portal: Portal) -> None:
    headers = await portal.login(HAPPY, DEMO_PASSWORD)
    step = dt.timedelta(minutes=portal.settings.session_idle_minutes - 5)
    elapsed = dt.timedelta()
    while elapsed < dt.timedelta(hours=portal.settings.session_absolute_hours):
        portal.clock.advance(step)
        elapsed += step
        response = await portal.client.get("/api/v1/auth/session", headers=headers)
        if response.status_code == 401:
            break
    assert response.status_code == 401
    assert response.json()["code"] == "session_expired"
    assert elapsed >= dt.timedelta(hours=portal.settings.session_absolute_hours)


async def test_repeated_failures_cool_down_then_allow_again(portal: Portal) -> None:
    policy = portal.state.throttle.policy
    for _ in range(policy.account_free_failures):
        response = await portal.client.post(LOGIN, json={"account_number": HAPPY, "password": "wrong-pass"})
        assert response.status_code in (401, 429)
    blocked = await portal.client.post(LOGIN, json={"account_number": HAPPY, "password": DEMO_PASSWORD})
    assert blocked.status_code == 429
    assert blocked.json()["code"] == "too_many_attempts"
    retry_after = int(blocked.headers["retry-after"])
    assert 0 < retry_after <= policy.base_cooldown_seconds + 1
    portal.clock.advance(dt.timedelta(seconds=retry_after + 1))
    allowed = await portal.client.post(LOGIN, json={"account_number": HAPPY, "password": DEMO_PASSWORD})
    assert allowed.status_code == 200


async def test_cool_downs_grow(portal: Portal) -> None:
    policy = portal.state.throttle.policy
    for _ in range(policy.account_free_failures):
        await portal.client.post(LOGIN, json={"account_number": HAPPY, "password": "wrong-pass"})
    first = int(
        (await portal.client.post(LOGIN, json={"account_number": HAPPY, "password": "x" * 9})).headers[
            "retry-after"
        ]
    )
    portal.clock.advance(dt.timedelta(seconds=first + 1))
    await portal.client.post(LOGIN, json={"account_number": HAPPY, "password": "wrong-again"})
    second = int(
        (await portal.client.post(LOGIN, json={"account_number": HAPPY, "password": "x" * 9})).headers[
            "retry-after"
        ]
    )
    assert second > first


async def test_counters_survive_a_restart(make_portal: PortalFactory) -> None:
    first = await make_portal()
    for _ in range(first.state.throttle.policy.account_free_failures):
        await first.client.post(LOGIN, json={"account_number": HAPPY, "password": "wrong-pass"})
    second = await make_portal()  # a new process on the same database
    response = await second.client.post(LOGIN, json={"account_number": HAPPY, "password": DEMO_PASSWORD})
    assert response.status_code == 429


async def test_guessing_one_account_does_not_lock_out_another(portal: Portal) -> None:
    for _ in range(portal.state.throttle.policy.account_free_failures + 2):
        await portal.client.post(LOGIN, json={"account_number": HAPPY, "password": "wrong-pass"})
    other = account_number(HAPPY_PATH_APARTMENT + 2)
    response = await portal.client.post(LOGIN, json={"account_number": other, "password": DEMO_PASSWORD})
    assert response.status_code == 200


async def test_sessions_expiry_is_indexed(portal: Portal) -> None:
    from sqlalchemy import inspect

    async with portal.state.engine.connect() as connection:
        indexes = await connection.run_sync(lambda sync: inspect(sync).get_indexes("sessions"))
    assert any(index["column_names"] == ["expires_at"] for index in indexes), indexes


async def test_a_login_deletes_a_bounded_batch_of_expired_sessions_oldest_first(portal: Portal) -> None:
    from sqlalchemy import func, insert

    from portal.auth.service import EXPIRED_DELETED_PER_LOGIN
    from portal.models import Account

    now = portal.clock.now()
    backlog = EXPIRED_DELETED_PER_LOGIN + 30
    async with portal.state.sessionmaker() as session:
        account_id = await session.scalar(select(Account.id).where(Account.number == HAPPY))
        rows = [
            {
                "token_hmac": f"expired-{n:056d}",
                "kind": "session",
                "account_id": account_id,
                "user_id": None,
                "created_at": now - dt.timedelta(days=2),
                "last_used_at": now - dt.timedelta(days=2),
                "expires_at": now - dt.timedelta(hours=1) - dt.timedelta(seconds=backlog - n),
            }
            for n in range(backlog)
        ]
        await session.execute(insert(AccessToken), rows)
        await session.commit()
    await portal.login(HAPPY, DEMO_PASSWORD)
    async with portal.state.sessionmaker() as session:
        expired = list(
            await session.scalars(select(AccessToken.token_hmac).where(AccessToken.expires_at < now))
        )
    assert len(expired) == 30  # one batch went, the rest waits for the next logins
    assert sorted(expired) == [f"expired-{n:056d}" for n in range(backlog - 30, backlog)]  # oldest first
    await portal.login(HAPPY, DEMO_PASSWORD)
    async with portal.state.sessionmaker() as session:
        left = await session.scalar(select(func.count()).where(AccessToken.expires_at < now))
    assert left == 0
