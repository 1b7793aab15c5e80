"""The composition root: settings → engine (migrated) → unit of work → services. Nothing runs at import."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine

from roadpass.ledger.service import LedgerService
from roadpass.settings import Settings
from roadpass.store.engine import make_engine
from roadpass.store.migrate import upgrade
from roadpass.store.uow import UnitOfWork
from roadpass.trace.service import TraceService

__all__ = ["Roadpass", "bootstrap"]


@dataclass(slots=True)
class Roadpass:
    """Everything a front end (API, CLI, web, benchmark) needs, wired once."""

    settings: Settings
    engine: Engine
    uow: UnitOfWork
    trace: TraceService
    ledger: LedgerService

    def close(self) -> None:
        """Release database connections."""
        self.engine.dispose()


def bootstrap(settings: Settings | None = None, *, migrate: bool = True) -> Roadpass:
    """Build the application for ``settings`` (default: from the environment), migrating the database."""
    settings = settings or Settings()
    engine = make_engine(settings.database_url)
    if migrate:
        upgrade(engine)
    uow = UnitOfWork(engine)
    return Roadpass(
        settings=settings,
        engine=engine,
        uow=uow,
        trace=TraceService(uow, max_events=settings.capture_max_events),
        ledger=LedgerService(uow),
    )
