"""Limits of the payment endpoints that cost someone else's resources, kept in the database.

- Public capital repair lookups and payments: a window per client address (every request counts,
  found or not), on the portal's clock. Unknown numbers are additionally throttled as failures by
  :class:`portal.throttling.service.Throttle`.
- Status queries to a payment service: at most one per order per interval, whoever asks (the
  resident's screen polls; a script could poll much faster).

The counters are rows of the throttling table, taken by one atomic upsert each (see
:mod:`portal.throttling.repository`): the figures hold for the whole portal, whatever the number of
workers and hosts.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.ext.asyncio import AsyncSession

from portal.kit.state import PortalState
from portal.throttling.service import Window, take_client_window, take_window

__all__ = ["poll_allowed", "take_public_lookup", "take_public_payment"]


def _window(state: PortalState) -> dt.timedelta:
    return dt.timedelta(seconds=state.settings.public_payment_window_seconds)


async def take_public_lookup(state: PortalState, session: AsyncSession, client: str) -> None:
    """Count a capital repair lookup of the client, or raise 429 (``Retry-After``)."""
    await take_client_window(
        session,
        Window.CAPITAL_REPAIR_LOOKUP,
        client,
        state.clock.now(),
        limit=state.settings.public_lookups_per_window,
        length=_window(state),
    )


async def take_public_payment(state: PortalState, session: AsyncSession, client: str) -> None:
    """Count a capital repair payment created by the client, or raise 429 (``Retry-After``)."""
    await take_client_window(
        session,
        Window.CAPITAL_REPAIR_PAYMENT,
        client,
        state.clock.now(),
        limit=state.settings.public_payments_per_window,
        length=_window(state),
    )


async def poll_allowed(
    state: PortalState, session: AsyncSession, order_id: str, created_at: dt.datetime | None = None
) -> bool:
    """Whether the payment service may be asked about the order now (then nobody may for an interval).

    While an order is new (the resident is paying right now) the interval is the quick one, so «Платёж
    прошёл» shows about a second after the payment, not five; later it is the longer one.
    """
    settings = state.settings
    now = state.clock.now()
    interval = settings.payment_poll_interval_seconds
    if created_at is not None:
        if created_at.tzinfo is None:
            created_at = created_at.replace(tzinfo=dt.UTC)
        if (now - created_at).total_seconds() < settings.payment_poll_quick_period_seconds:
            interval = min(interval, settings.payment_poll_quick_interval_seconds)
    if interval <= 0:
        return True
    return await take_window(
        session,
        Window.PAYMENT_POLL,
        f"order:{order_id}",
        now,
        limit=1,
        length=dt.timedelta(seconds=interval),
    )
