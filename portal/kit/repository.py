"""The base of every repository: the request's session, generic reads and writes, common lookups.

Modelled on polar's ``kit/repository``: a repository is generic over the model it mainly stores
(``class PaymentsRepository(Repository[PaymentOrder])``), holds the session, and writes its own
statements only for what is particular to its domain. Nothing here commits: the session's scope
(:func:`portal.kit.db.session_scope`) does, when the route returns.

The lookups several domains need ("the account with this number", "the registered user of an account
number") are written once here, so that every domain finds an account the same way.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, Generic, TypeVar

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from portal.kit.db import Base
from portal.models import Account, User, UserAccount

M = TypeVar("M", bound=Base)
#: Any mapped row: a repository also writes the rows that belong with its model's (an order's payment).
R = TypeVar("R", bound=Base)
T = TypeVar("T")


class Repository(Generic[M]):
    """SQL of one domain, mainly of the rows of :attr:`model`."""

    model: ClassVar[type[Base]]

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # --- generic reads ----------------------------------------------------------------------------

    async def get_one_or_none(self, statement: Select[tuple[T]]) -> T | None:
        """The single row (or value) ``statement`` selects, or None; more than one row is an error."""
        result = await self.session.execute(statement)
        return result.scalar_one_or_none()

    async def get_all(self, statement: Select[tuple[T]]) -> Sequence[T]:
        """Every row (or value) ``statement`` selects."""
        return (await self.session.scalars(statement)).all()

    def base_statement(self) -> Select[tuple[M]]:
        """``SELECT`` of the model's rows, to narrow with ``.where``."""
        statement: Select[tuple[M]] = select(self.model)
        return statement

    async def get_by_id(self, id_: Any, *, fresh: bool = False) -> M | None:
        """The row with this primary key ``id``; ``fresh`` reloads an instance the session already holds."""
        statement = self.base_statement().where(self.model.__table__.c.id == id_)
        if fresh:
            statement = statement.execution_options(populate_existing=True)
        return await self.get_one_or_none(statement)

    # --- generic writes ---------------------------------------------------------------------------

    async def create(self, obj: R, *, flush: bool = False) -> R:
        """Add a new row; ``flush`` inserts it now, so that a duplicate key raises here, not at commit."""
        self.session.add(obj)
        if flush:
            await self.session.flush()
        return obj

    async def update(self, obj: R, *, values: Mapping[str, Any] | None = None, flush: bool = False) -> R:
        """Set attributes of a loaded row; ``flush`` writes them now."""
        for name, value in (values or {}).items():
            setattr(obj, name, value)
        if flush:
            await self.session.flush()
        return obj

    # --- lookups shared by the domains ------------------------------------------------------------

    async def account_by_number(self, number: str) -> Account | None:
        """The account with this number (as the resident typed it, already stripped)."""
        return await self.get_one_or_none(select(Account).where(Account.number == number))

    async def user_with_account(self, number: str) -> tuple[User, Account] | None:
        """The login the account with this number belongs to (its own or attached), with the account.

        None while no login has the account.
        """
        statement = (
            select(User, Account)
            .join(UserAccount, UserAccount.user_id == User.id)
            .join(Account, UserAccount.account_id == Account.id)
            .where(Account.number == number)
        )
        row = (await self.session.execute(statement)).first()
        return (row[0], row[1]) if row else None

    async def user_of_account(self, account_id: int) -> User | None:
        """The login an account belongs to (its own or attached), None while it belongs to none."""
        return await self.get_one_or_none(
            select(User)
            .join(UserAccount, UserAccount.user_id == User.id)
            .where(UserAccount.account_id == account_id)
        )


class AccountRepository(Repository[M]):
    """A repository whose every query is filtered by one account (the principal's)."""

    def __init__(self, session: AsyncSession, account_id: int) -> None:
        super().__init__(session)
        self.account_id = account_id
