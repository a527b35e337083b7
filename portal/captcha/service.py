"""Captcha rules: single use, bound to a purpose and an account, short-lived, three attempts.

The answer never leaves the server: only an HMAC of it (under the server's secret, bound to the
purpose, the account and the captcha's id) is stored, so neither the database nor a response
reveals it. Images are drawn to stay legible when the terminal app shows them with half-block
pixels at 80×24 (about 70×24 pixels): five large dark characters on white, slight rotation and
warp, few noise dots, and an alphabet without look-alikes.
"""

from __future__ import annotations

import base64
import datetime as dt
import secrets

from captcha.image import ImageCaptcha
from PIL.Image import Image
from sqlalchemy.ext.asyncio import AsyncSession

from portal.captcha.errors import CaptchaInvalid, CaptchaWrong, InvalidPurpose
from portal.captcha.repository import CaptchaRepository
from portal.captcha.schemas import CaptchaIssued, CaptchaPurpose
from portal.kit.state import PortalState
from portal.security.tokens import TokenDigest

#: Upper-case letters and digits without look-alikes: none of 0/O/Q, 1/I/L, 5/S, 8/B; of 2/Z and 6/G
#: only the digit; no M and W either (too wide: they merge with a neighbour at 70 pixels across).
#: Answers are compared without case, so one case is enough.
CAPTCHA_ALPHABET = "ACDEFHJKNPRTUVXY234679"
CAPTCHA_LENGTH = 5
CAPTCHA_ATTEMPTS = 3
IMAGE_WIDTH = 200
IMAGE_HEIGHT = 70
#: An answer longer than this cannot be right; it is not even hashed.
MAX_ANSWER_LENGTH = 40

ColorTuple = tuple[int, int, int] | tuple[int, int, int, int]

_BACKGROUND = (255, 255, 255)
_INK = (25, 25, 25)


class LegibleCaptcha(ImageCaptcha):
    """The package's captcha, tamed for a terminal's coarse pixels.

    The package pastes each character through a mask made from its brightness (meant for light,
    random colours); with dark ink that mask would be almost transparent, so the table saturates
    it instead. No blank "word spaces" and no overlap: squeezed letters merge at 70×24.
    """

    lookup_table: list[int] = [min(255, i * 11) for i in range(256)]  # noqa: RUF012 - as the base declares it
    character_rotate = (-12, 12)
    character_warp_dx = (0.05, 0.15)
    character_warp_dy = (0.05, 0.15)
    word_space_probability = 1.0
    word_offset_dx = 0.05

    @staticmethod
    def create_noise_dots(image: Image, color: ColorTuple, width: int = 2, number: int = 8) -> Image:
        return ImageCaptcha.create_noise_dots(image, color, width=width, number=number)


_IMAGES = LegibleCaptcha(width=IMAGE_WIDTH, height=IMAGE_HEIGHT, font_sizes=(46, 50, 54))


def new_answer() -> str:
    return "".join(secrets.choice(CAPTCHA_ALPHABET) for _ in range(CAPTCHA_LENGTH))


def normalise_answer(text: str) -> str:
    """What the resident typed, compared without case and spaces."""
    return "".join(text.split()).upper()


def render_png(answer: str) -> bytes:
    """The PNG of ``answer`` (about 3 ms)."""
    return _IMAGES.generate(answer, format="png", bg_color=_BACKGROUND, fg_color=_INK).getvalue()


def answer_digest(
    tokens: TokenDigest, purpose: CaptchaPurpose, account_id: int, captcha_id: str, answer: str
) -> str:
    """The stored form of an answer: useless for any other captcha, purpose or account."""
    return tokens.digest(f"captcha\x1f{purpose.value}\x1f{account_id}\x1f{captcha_id}\x1f{answer}")


def parse_purpose(text: str) -> CaptchaPurpose:
    """The purpose of a new captcha, or 422 ``invalid_purpose``."""
    try:
        return CaptchaPurpose(text.strip())
    except ValueError:
        allowed = ", ".join(p.value for p in CaptchaPurpose)
        raise InvalidPurpose(allowed=allowed) from None


async def issue_captcha(
    state: PortalState, session: AsyncSession, account_id: int, purpose: CaptchaPurpose
) -> CaptchaIssued:
    """A new captcha of ``purpose`` for the account; its earlier ones of the same purpose die."""
    now = state.clock.now()
    repo = CaptchaRepository(session)
    # Only the newest image of a purpose works: a resident has at most one per purpose, and asking
    # for many images buys no more guesses than asking for one after another.
    await repo.delete_replaced(account_id, purpose, now)
    captcha_id = secrets.token_urlsafe(24)
    answer = new_answer()
    expires_at = now + dt.timedelta(minutes=state.settings.captcha_minutes)
    await repo.add(
        public_id=captcha_id,
        account_id=account_id,
        purpose=purpose,
        answer_hmac=answer_digest(state.tokens, purpose, account_id, captcha_id, answer),
        attempts=CAPTCHA_ATTEMPTS,
        now=now,
        expires_at=expires_at,
    )
    png = render_png(answer)
    return CaptchaIssued(
        captcha_id=captcha_id,
        image_png_base64=base64.b64encode(png).decode("ascii"),
        width=IMAGE_WIDTH,
        height=IMAGE_HEIGHT,
        expires_at=expires_at,
        attempts_left=CAPTCHA_ATTEMPTS,
    )


async def verify_captcha(
    session: AsyncSession,
    tokens: TokenDigest,
    *,
    account_id: int,
    purpose: CaptchaPurpose,
    captcha_id: str,
    answer: str,
    now: dt.datetime,
) -> None:
    """Use the captcha once, or raise 409 ``captcha_wrong`` / ``captcha_invalid``.

    A right answer deletes the captcha in the caller's transaction (so a later failure of the
    change keeps it usable). A wrong one takes an attempt (the last one deletes the captcha) and
    commits that at once, so the count survives the failing request: call this before writing
    anything the request must not keep.
    """
    repo = CaptchaRepository(session)
    typed = normalise_answer(answer)
    if 0 < len(typed) <= MAX_ANSWER_LENGTH:
        digest = answer_digest(tokens, purpose, account_id, captcha_id, typed)
        if await repo.consume(captcha_id, account_id, purpose, digest, now):
            return
    left = await repo.spend_attempt(captcha_id, account_id, purpose, now)
    if left is None:
        raise CaptchaInvalid()
    if left <= 0:
        await repo.delete(captcha_id, account_id)
    await session.commit()
    raise CaptchaWrong()
