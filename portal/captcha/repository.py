"""SQL of captchas: issue, consume once, spend an attempt; always filtered by the account."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, or_, update

from portal.kit.repository import Repository
from portal.models import Captcha


class CaptchaRepository(Repository[Captcha]):
    model = Captcha

    async def add(
        self,
        *,
        public_id: str,
        account_id: int,
        purpose: str,
        answer_hmac: str,
        attempts: int,
        now: dt.datetime,
        expires_at: dt.datetime,
    ) -> Captcha:
        row = Captcha(
            public_id=public_id,
            account_id=account_id,
            purpose=purpose,
            answer_hmac=answer_hmac,
            attempts_left=attempts,
            created_at=now,
            expires_at=expires_at,
        )
        return await self.create(row, flush=True)

    async def delete_replaced(self, account_id: int, purpose: str, now: dt.datetime) -> None:
        """Drop the account's earlier captchas of this purpose and its expired or spent ones."""
        await self.session.execute(
            delete(Captcha).where(
                Captcha.account_id == account_id,
                or_(Captcha.purpose == purpose, Captcha.expires_at <= now, Captcha.attempts_left <= 0),
            )
        )

    async def consume(
        self, public_id: str, account_id: int, purpose: str, answer_hmac: str, now: dt.datetime
    ) -> bool:
        """Delete the captcha if the answer is right and it is still alive; whether it was deleted.

        Check and delete are one statement: of two requests with the same captcha only one deletes
        the row (on PostgreSQL the second waits for the first, then finds nothing).
        """
        deleted = await self.session.scalar(
            delete(Captcha)
            .where(
                Captcha.public_id == public_id,
                Captcha.account_id == account_id,
                Captcha.purpose == purpose,
                Captcha.answer_hmac == answer_hmac,
                Captcha.attempts_left > 0,
                Captcha.expires_at > now,
            )
            .returning(Captcha.id)
        )
        return deleted is not None

    async def spend_attempt(
        self, public_id: str, account_id: int, purpose: str, now: dt.datetime
    ) -> int | None:
        """Take one attempt from a live captcha; the attempts left, or None if there is no such captcha."""
        left: int | None = await self.session.scalar(
            update(Captcha)
            .where(
                Captcha.public_id == public_id,
                Captcha.account_id == account_id,
                Captcha.purpose == purpose,
                Captcha.attempts_left > 0,
                Captcha.expires_at > now,
            )
            .values(attempts_left=Captcha.attempts_left - 1)
            .returning(Captcha.attempts_left)
        )
        return left

    async def delete(self, public_id: str, account_id: int) -> None:
        await self.session.execute(
            delete(Captcha).where(Captcha.public_id == public_id, Captcha.account_id == account_id)
        )
