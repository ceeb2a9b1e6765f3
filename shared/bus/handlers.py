"""Event handlers keyed by their contract class, each typed with the contract it takes and the service's context.

A domain keeps its handlers in `<domain>/handlers.py`:

    handlers = Handlers[AgencyContext]()

    @handlers.on(ComplaintDispositioned)
    async def on_dispositioned(session, envelope, event: ComplaintDispositioned, ctx: AgencyContext) -> None: ...

and a service's subscription joins the domains a durable serves (shared.bus.consumer.Subscription). A contract with
handlers in several domains runs them in the order the domains were joined.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Generic, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from shared.events import Envelope, EventData

E = TypeVar("E", bound=EventData)
C = TypeVar("C")

Handler = Callable[[AsyncSession, Envelope, E, C], Awaitable[None]]
"""Applies one event within the batch's transaction; it never commits."""


class Handlers(Generic[C]):
    """A set of handlers for one context type, at most one per contract."""

    def __init__(self) -> None:
        self._by_contract: dict[type[EventData], list[Handler[Any, C]]] = {}

    def on(self, contract: type[E]) -> Callable[[Handler[E, C]], Handler[E, C]]:
        """Register the decorated function as this set's handler of `contract`."""

        def register(handler: Handler[E, C]) -> Handler[E, C]:
            if contract in self._by_contract:
                raise ValueError(f"{contract.__name__} has a handler in this set already")
            self._by_contract[contract] = [handler]
            return handler

        return register

    @classmethod
    def joined(cls, *sets: Handlers[C]) -> Handlers[C]:
        """One set from several domains'; a contract handled in more than one runs each, in the order given."""
        joined = cls()
        for one in sets:
            for contract, handlers in one._by_contract.items():
                joined._by_contract.setdefault(contract, []).extend(handlers)
        return joined

    @property
    def contracts(self) -> frozenset[type[EventData]]:
        return frozenset(self._by_contract)

    async def handle(self, session: AsyncSession, envelope: Envelope, event: EventData, ctx: C) -> None:
        """Run the handlers of the event's contract (none for a contract this set does not handle)."""
        for handler in self._by_contract.get(type(event), ()):
            await handler(session, envelope, event, ctx)
