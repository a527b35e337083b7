"""Routes of mail subscriptions: the resident's choice in the profile, and the letters' unsubscribe link."""

from __future__ import annotations

from html import escape
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse

from portal.auth.dependencies import CurrentResident
from portal.kit.deps import DbSession, State
from portal.kit.errors import error_responses
from portal.notify import service
from portal.notify.schemas import Subscriptions, SubscriptionsChange
from portal.notify.unsubscribe import TOKEN_PATTERN, Topic, read_token

router = APIRouter(tags=["notifications"])


@router.get(
    "/profile/notifications",
    response_model=Subscriptions,
    summary="Письма: квитанция по e-mail и напоминания о показаниях",
    responses=error_responses(401),
)
async def get_subscriptions(session: DbSession, principal: CurrentResident) -> Subscriptions:
    return await service.subscriptions(session, principal)


@router.put(
    "/profile/notifications",
    response_model=Subscriptions,
    summary="Включить или выключить письма (оба поля, `true`/`false`)",
    responses=error_responses(401),
)
async def put_subscriptions(
    body: SubscriptionsChange, state: State, session: DbSession, principal: CurrentResident
) -> Subscriptions:
    return await service.change_subscriptions(session, principal, body, state.clock.now())


Token = Annotated[
    str,
    Query(
        min_length=1,
        max_length=80,
        pattern=TOKEN_PATTERN,
        description="Из ссылки в письме (подписана ключом портала; вход не нужен).",
    ),
]

_TOPICS = {Topic.RECEIPT: "квитанции по e-mail", Topic.REMINDERS: "напоминания о показаниях"}
_HTML = {"content": {"text/html": {"schema": {"type": "string"}}}}


def _page(title: str, body: str, status: int = 200) -> HTMLResponse:
    html = (
        '<!DOCTYPE html><html lang="ru"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{escape(title)}</title></head>"
        '<body style="font-family:sans-serif;max-width:40em;margin:2em auto">'
        f"<h1>{escape(title)}</h1>{body}</body></html>"
    )
    return HTMLResponse(html, status_code=status, headers={"Cache-Control": "no-store"})


_INVALID = "<p>Ссылка повреждена или устарела. Отключите письма в приложении: Профиль → «Письма».</p>"


@router.get(
    "/unsubscribe",
    response_class=HTMLResponse,
    summary="Страница отписки по ссылке из письма: одна кнопка «Отписаться»",
    description=(
        "Ничего не меняет: почтовые программы и антивирусы открывают ссылки из писем сами. "
        "Отписывает кнопка на странице (POST на тот же адрес)."
    ),
    responses={200: _HTML, 404: {**_HTML, "description": "Ссылка повреждена или не из письма"}},
)
async def unsubscribe_page(token: Token, state: State) -> HTMLResponse:
    target = read_token(state.settings.secret_key, token)
    if target is None:
        return _page("Ссылка не подходит", _INVALID, 404)
    form = (
        f"<p>Больше не присылать {_TOPICS[target.topic]}?</p>"
        f'<form method="post" action="?token={escape(token)}">'
        '<button type="submit">Отписаться</button></form>'
    )
    return _page("Отписка от писем", form)


@router.post(
    "/unsubscribe",
    response_class=HTMLResponse,
    summary="Отписаться по ссылке из письма (в том числе одним нажатием в почтовой программе, RFC 8058)",
    description="Повторное нажатие ничего не меняет и отвечает так же.",
    responses={200: _HTML, 404: {**_HTML, "description": "Ссылка повреждена или не из письма"}},
)
async def unsubscribe(token: Token, state: State, session: DbSession) -> HTMLResponse:
    target = await service.unsubscribe(session, state.settings.secret_key, token, state.clock.now())
    if target is None:
        return _page("Ссылка не подходит", _INVALID, 404)
    return _page(
        "Вы отписались",
        f"<p>{_TOPICS[target.topic].capitalize()} больше приходить не будут. Включить их снова можно "
        "в приложении: Профиль → «Письма».</p>",
    )
