"""SQL of password recovery: registered users by account number, single-use recovery codes."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, select

from portal.kit.repository import Repository
from portal.models import AccessToken, TokenKind


class RecoveryRepository(Repository[AccessToken]):
    model = AccessToken

    async def live_code_id(self, account_id: int, now: dt.datetime) -> int | None:
        """The row id of the account's recovery code that still works, if any (only the newest exists)."""
        result: int | None = await self.session.scalar(
            select(AccessToken.id)
            .where(
                AccessToken.kind == TokenKind.RECOVERY,
                AccessToken.account_id == account_id,
                AccessToken.expires_at > now,
            )
            .order_by(AccessToken.id.desc())
            .limit(1)
        )
        return result

    async def consume_code(self, code_hmac: str, account_id: int, now: dt.datetime) -> int | None:
        """Delete a valid recovery code of the account and return its user id, or None.

        Checking and deleting is one statement, so two requests with the same code cannot both
        succeed (on PostgreSQL the second waits for the first and then finds no row).
        """
        result: int | None = await self.session.scalar(
            delete(AccessToken)
            .where(
                AccessToken.token_hmac == code_hmac,
                AccessToken.kind == TokenKind.RECOVERY,
                AccessToken.account_id == account_id,
                AccessToken.user_id.is_not(None),
                AccessToken.expires_at > now,
            )
            .returning(AccessToken.user_id)
        )
        return result
