"""The composition root: settings → engine (migrated) → unit of work → every service, built once.

Front ends (API, CLI, web UI, benchmarks) take services from the :class:`Roadpass` container and nothing
else; caches and indexes live inside the services they serve, so two containers on two databases never
share one. Nothing runs at import.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine

from roadpass.access.admin import AdminService
from roadpass.access.service import AccessService
from roadpass.compliance.service import ComplianceService
from roadpass.ledger.service import LedgerService
from roadpass.passport.epr.service import EprService
from roadpass.passport.service import PassportService
from roadpass.settings import Settings
from roadpass.store.access import SqlAccessRecords
from roadpass.store.compliance import SqlComplianceRecords
from roadpass.store.engine import make_engine
from roadpass.store.epr import SqlEprRecords
from roadpass.store.ledger import SqlLedgerRecords
from roadpass.store.master_data import SqlMasterDataRecords
from roadpass.store.migrate import upgrade
from roadpass.store.named_queries import SqlNamedQueryRecords
from roadpass.store.passports import DataVersionProbe, SqlPassportRecords
from roadpass.store.subscriptions import SqlSubscriptionRecords
from roadpass.store.trace_records import SqlTraceStore
from roadpass.store.uow import StoreTransactions, UnitOfWork
from roadpass.trace.master_data_service import MasterDataService
from roadpass.trace.named_query_service import NamedQueryService
from roadpass.trace.service import TraceService
from roadpass.trace.subscription_service import SubscriptionService

__all__ = ["Roadpass", "bootstrap"]


@dataclass(slots=True)
class Roadpass:
    """Everything a front end (API, CLI, web, benchmark) needs, wired once."""

    settings: Settings
    engine: Engine
    uow: UnitOfWork
    trace: TraceService
    master_data: MasterDataService
    ledger: LedgerService
    access: AccessService
    admin: AdminService
    passports: PassportService
    epr: EprService
    compliance: ComplianceService
    queries: NamedQueryService
    subscriptions: SubscriptionService

    def close(self) -> None:
        """Stop background work and release database connections."""
        self.subscriptions.close()
        self.access.close()
        self.engine.dispose()


def bootstrap(settings: Settings | None = None, *, migrate: bool = True) -> Roadpass:
    """Build the application for ``settings`` (default: from the environment), migrating the database."""
    settings = settings or Settings()
    engine = make_engine(settings.database_url)
    if migrate:
        upgrade(engine)
    uow = UnitOfWork(engine)
    trace = TraceService(SqlTraceStore(uow), max_events=settings.capture_max_events)
    passports = PassportService(StoreTransactions(uow, SqlPassportRecords), trace, changes=DataVersionProbe(engine))
    access = AccessService(StoreTransactions(uow, SqlAccessRecords), settings)
    queries = NamedQueryService(StoreTransactions(uow, SqlNamedQueryRecords))
    return Roadpass(
        settings=settings,
        engine=engine,
        uow=uow,
        trace=trace,
        master_data=MasterDataService(StoreTransactions(uow, SqlMasterDataRecords)),
        ledger=LedgerService(StoreTransactions(uow, SqlLedgerRecords)),
        access=access,
        admin=AdminService(StoreTransactions(uow, SqlAccessRecords), access, trace, settings),
        passports=passports,
        epr=EprService(StoreTransactions(uow, SqlEprRecords), passports, trace),
        compliance=ComplianceService(StoreTransactions(uow, SqlComplianceRecords)),
        queries=queries,
        subscriptions=SubscriptionService(
            StoreTransactions(uow, SqlSubscriptionRecords), trace, queries,
            allowed_hosts=settings.subscription_allowed_hosts, visibility_of=access.party_visibility),
    )
