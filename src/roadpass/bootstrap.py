"""The composition root: settings → engine (migrated) → unit of work → every service, built once.

Front ends (API, CLI, web UI, benchmarks) take services from the :class:`Roadpass` container and nothing
else; caches and indexes live inside the services they serve, so two containers on two databases never
share one. Nothing runs at import.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Engine

from roadpass.access.admin import AdminService
from roadpass.access.service import AccessService
from roadpass.aftermarket.network.service import RepairNetworkService
from roadpass.aftermarket.parts.service import PartsService
from roadpass.aftermarket.recalls.audience import NOTIFIED_ROLES
from roadpass.aftermarket.recalls.ports import Recipient
from roadpass.aftermarket.recalls.service import RecallService
from roadpass.aftermarket.service.due import RepairerDesk
from roadpass.aftermarket.service.service import ServiceRecordService
from roadpass.aftermarket.warranty.service import WarrantyService
from roadpass.broker.accounts import MosquittoAccounts, broker_directory
from roadpass.compliance.service import ComplianceService
from roadpass.ledger.service import LedgerService
from roadpass.passport.aas.service import AasService
from roadpass.passport.domain import BatteryPassport
from roadpass.passport.epr.service import EprService
from roadpass.passport.issuing import battery_models
from roadpass.passport.service import PassportService
from roadpass.regions.aggregates_client import HttpAggregateClient
from roadpass.regions.aggregates_service import AggregateService
from roadpass.regions.federation_service import FederationService
from roadpass.regions.health_relay_client import HttpHealthClient
from roadpass.regions.health_relay_service import HealthRelayService, HealthSummaryTap
from roadpass.regions.keys import node_directory, region_key
from roadpass.regions.peer_client import HttpPeerClient
from roadpass.regions.recall_relay_service import RecallRelayService
from roadpass.regions.relay_worker import RelayWorker
from roadpass.regions.service import RegionService
from roadpass.resolver.service import ResolverService
from roadpass.settings import Settings
from roadpass.store.access import SqlAccessRecords
from roadpass.store.aftermarket_network import SqlNetworkRecords, SqlPartRecords
from roadpass.store.aftermarket_recalls import SqlRecallRecords
from roadpass.store.aftermarket_service import SqlServiceRecords, SqlWarrantyRecords
from roadpass.store.compliance import SqlComplianceRecords
from roadpass.store.engine import make_engine
from roadpass.store.epr import SqlEprRecords
from roadpass.store.federation import SqlFederationRecords
from roadpass.store.health_relay import SqlHealthRelayRecords
from roadpass.store.ledger import SqlLedgerRecords
from roadpass.store.master_data import SqlMasterDataRecords
from roadpass.store.migrate import upgrade
from roadpass.store.named_queries import SqlNamedQueryRecords
from roadpass.store.partitions import EventPartitions
from roadpass.store.passports import DataVersionProbe, SqlPassportRecords
from roadpass.store.region_aggregates import SqlAggregateRecords
from roadpass.store.regions import SqlRegionRecords
from roadpass.store.software_updates import SqlSoftwareRecords
from roadpass.store.subscriptions import SqlSubscriptionRecords
from roadpass.store.telematics import SqlTelematicsRecords
from roadpass.store.trace_records import SqlTraceStore
from roadpass.store.uow import StoreTransactions, UnitOfWork
from roadpass.telematics.attribution import Attributor, TraceGenealogy, pack_by_gtin
from roadpass.telematics.health_service import PackHealthService
from roadpass.telematics.ingest import IngestService
from roadpass.telematics.rollup import grain_seconds
from roadpass.telematics.service import TelematicsService
from roadpass.telematics.software.service import SoftwareUpdateService
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
    resolver: ResolverService
    aas: AasService
    epr: EprService
    compliance: ComplianceService
    queries: NamedQueryService
    subscriptions: SubscriptionService
    repair_network: RepairNetworkService
    parts: PartsService
    software_updates: SoftwareUpdateService
    telematics: TelematicsService
    telematics_ingest: IngestService
    recalls: RecallService
    service_records: ServiceRecordService
    warranty: WarrantyService
    repairer_desk: RepairerDesk
    regions: RegionService
    partitions: EventPartitions  # PostgreSQL: the event table's months
    federation: FederationService  # where-used across regions (docs/regions-federation.md)
    recall_relay: RecallRelayService = field(init=False)  # recalls across regions, set below
    aggregates: AggregateService = field(init=False)  # counts allowed only aggregated, to peers and from them
    relay_worker: RelayWorker = field(init=False)  # node-to-node rounds while serving (features/regions.py)
    health: PackHealthService[BatteryPassport] = field(init=False)  # battery health from telematics, set below
    health_relay: HealthRelayService[BatteryPassport] = field(init=False)  # that health to the home node's passports

    def close(self) -> None:
        """Stop background work and release database connections."""
        self.subscriptions.close()
        self.access.close()
        self.uow.close()
        self.engine.dispose()


def _health_relay(app: Roadpass, uow: UnitOfWork, passports: PassportService) -> HealthRelayService[BatteryPassport]:
    """Pack health summaries to the home node's passports (docs/regions-federation.md), a relay worker round."""
    relay = HealthRelayService(StoreTransactions(uow, SqlHealthRelayRecords), app.federation, passports,
                               HttpHealthClient())
    app.relay_worker.register("battery-health", relay.round)
    return relay


def bootstrap(settings: Settings | None = None, *, migrate: bool = True) -> Roadpass:
    """Build the application for ``settings`` (default: from the environment), migrating the database."""
    settings = settings or Settings()
    engine = make_engine(settings.database_url)
    if migrate:
        upgrade(engine)
    uow = UnitOfWork(engine)
    trace = TraceService(SqlTraceStore(uow), max_events=settings.capture_max_events)
    passports = PassportService(StoreTransactions(uow, SqlPassportRecords), trace, changes=DataVersionProbe(engine),
                                resolver=settings.resolver_root)  # the QR codes' resolver root
    access = AccessService(StoreTransactions(uow, SqlAccessRecords), settings)
    queries = NamedQueryService(StoreTransactions(uow, SqlNamedQueryRecords))
    service_records = ServiceRecordService(StoreTransactions(uow, SqlServiceRecords), trace)
    warranty = WarrantyService(StoreTransactions(uow, SqlWarrantyRecords), trace, service_records)
    software_updates = SoftwareUpdateService(StoreTransactions(uow, SqlSoftwareRecords), trace)
    compliance = ComplianceService(StoreTransactions(uow, SqlComplianceRecords))
    compliance.evidence_sources.append(software_updates)  # UN R156: RXSWIN and campaign records per vehicle type
    attributor = Attributor(TraceGenealogy(trace, pack_by_gtin(lambda: {m.gtin for m in battery_models()})))
    trace.after_capture_commit.append(attributor.forget)  # a swap changes whose data a unit reports
    telematics_records = StoreTransactions(uow, SqlTelematicsRecords)
    regions = RegionService(  # this node's region, peers and borders (docs/regions.md)
        StoreTransactions(uow, SqlRegionRecords), region=settings.region, node_id=settings.node_id,
        key=None if settings.region is None else region_key(
            settings.pseudonym_key, directory=node_directory(settings.database_url), region=settings.region),
        policy_path=settings.transfer_policy, peers=settings.peers)
    app = Roadpass(
        settings=settings,
        engine=engine,
        uow=uow,
        trace=trace,
        master_data=MasterDataService(StoreTransactions(uow, SqlMasterDataRecords)),
        ledger=LedgerService(StoreTransactions(uow, SqlLedgerRecords)),
        access=access,
        admin=AdminService(StoreTransactions(uow, SqlAccessRecords), access, trace, settings),
        passports=passports,
        resolver=ResolverService(trace, passports, MasterDataService(StoreTransactions(uow, SqlMasterDataRecords)),
                                 compliance, changes=passports.changes, root=settings.resolver_base,
                                 service_history=service_records),
        aas=AasService(passports),
        epr=EprService(StoreTransactions(uow, SqlEprRecords), passports, trace),
        compliance=compliance,
        queries=queries,
        subscriptions=SubscriptionService(
            StoreTransactions(uow, SqlSubscriptionRecords), trace, queries,
            allowed_hosts=settings.subscription_allowed_hosts, visibility_of=access.party_visibility,
            projector=regions.project if settings.region else None),
        repair_network=RepairNetworkService(StoreTransactions(uow, SqlNetworkRecords), access, trace),
        parts=PartsService(StoreTransactions(uow, SqlPartRecords), trace, access),
        software_updates=software_updates,
        telematics=TelematicsService(
            telematics_records, trace, MosquittoAccounts(broker_directory(settings.telematics_dir)),
            raw_retention_days=settings.telematics_raw_retention_days),
        telematics_ingest=IngestService(
            telematics_records, attributor, grains=[grain_seconds(g) for g in settings.telematics_rollups],
            software=software_updates.mqtt_handler),
        recalls=RecallService(
            StoreTransactions(uow, SqlRecallRecords), trace,
            recipients=lambda markets: [Recipient(p.key, p.role, p.country) for role in NOTIFIED_ROLES
                                        for p in access.parties(role=role) if p.country in markets]),
        service_records=service_records,
        warranty=warranty,
        repairer_desk=RepairerDesk(service_records, warranty, passports=passports, changes=passports.changes),
        regions=regions,
        partitions=EventPartitions(engine),
        federation=FederationService(regions, trace, HttpPeerClient(), api_keys={
            p["node"]: p["apiKey"] for p in settings.peers if p.get("node") and p.get("apiKey")}),
    )
    regions.deliveries = app.subscriptions  # nodes status: outbox depth per peer subscription
    app.repairer_desk.recalls = app.recalls  # open campaigns on the repairer's VIN page
    app.resolver.recalls = app.recalls  # gs1:recallStatus: open campaigns of a scanned unit
    app.parts.recalls = app.recalls  # parts check: open campaigns of a checked part
    app.recall_relay = RecallRelayService(StoreTransactions(uow, SqlFederationRecords), app.federation, app.recalls,
                                          HttpPeerClient())
    app.aggregates = AggregateService(StoreTransactions(uow, SqlAggregateRecords), app.federation, app.master_data,
                                      HttpAggregateClient())
    app.relay_worker = RelayWorker(rounds={"recall-relay": app.recall_relay.round, "aggregates": app.aggregates.round})
    app.health_relay = _health_relay(app, uow, passports)
    app.health = PackHealthService(HealthSummaryTap(passports, app.health_relay), app.telematics,
                                   cadence_seconds=settings.telematics_health_cadence_hours * 3600)
    return app
