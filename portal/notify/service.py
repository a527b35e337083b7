"""Subscription rules: a resident turns letters on and off in the profile; a link turns one off."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.ext.asyncio import AsyncSession

from portal.auth.errors import NotAuthenticated
from portal.auth.service import Principal
from portal.notify.repository import NotifyRepository
from portal.notify.schemas import Subscriptions, SubscriptionsChange
from portal.notify.unsubscribe import Topic, Unsubscribe, read_token
from portal.registration.service import mask_email


async def subscriptions(session: AsyncSession, principal: Principal) -> Subscriptions:
    email = await NotifyRepository(session).registered_email(principal.account_id)
    if email is None:
        raise NotAuthenticated()
    row = await NotifyRepository(session).subscription(principal.account_id)
    return Subscriptions(
        receipt=bool(row and row.receipt),
        reminders=bool(row and row.reminders),
        email_masked=mask_email(email),
    )


async def change_subscriptions(
    session: AsyncSession, principal: Principal, body: SubscriptionsChange, now: dt.datetime
) -> Subscriptions:
    await NotifyRepository(session).set_subscription(
        principal.account_id, {"receipt": body.receipt, "reminders": body.reminders}, now
    )
    return await subscriptions(session, principal)


async def unsubscribe(session: AsyncSession, key: str, token: str, now: dt.datetime) -> Unsubscribe | None:
    """Turn off what a letter's link names (again and again: the same result); None for a false link."""
    target = read_token(key, token)
    if target is None or await NotifyRepository(session).registered_email(target.account_id) is None:
        return None
    field = "receipt" if target.topic is Topic.RECEIPT else "reminders"
    await NotifyRepository(session).set_subscription(target.account_id, {field: False}, now)
    return target
