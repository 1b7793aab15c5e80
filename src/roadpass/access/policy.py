"""The one authorisation policy: a rule table (operation × role → effect), the route table that names the
operation of every endpoint, and the decisions built from them.

Handlers never check roles themselves: the API's access layer asks :func:`decide` for the route's
operation before the handler runs, and handlers that return data about units ask :func:`decide_unit`
or apply the principal's :class:`~roadpass.trace.query.Visibility` (precomputed by
:func:`visibility_for`). What a party may see (GS1 keys under its company prefix, its sites, what it
captured, what was shared with it, an authority's markets) is in :mod:`roadpass.access.ownership`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from roadpass.access.model import Party, PartyRole, Principal, Share, ShareKind
from roadpass.access.ownership import actor_prefix, location_prefixes, owned_prefixes
from roadpass.trace.query import Visibility

__all__ = [
    "ROLES",
    "ROUTES",
    "RULES",
    "Decision",
    "Effect",
    "Op",
    "decide",
    "decide_own",
    "decide_share",
    "decide_unit",
    "effect",
    "operation_for",
    "owns_key",
    "passport_role",
    "rule_table_markdown",
    "scope_of",
    "visibility_for",
]


class Op(StrEnum):
    """Operations the rule table knows; every endpoint maps to exactly one (see :data:`ROUTES`)."""

    PUBLIC = "public"  # sign-in page, API documentation, the landing page
    ACCOUNT = "account"  # one's own session, sign-out, background jobs one started
    EVENTS_READ = "events.read"
    EVENTS_CAPTURE = "events.capture"
    CAPTURE_JOBS_READ = "capture_jobs.read"
    QUERIES_READ = "queries.read"
    QUERIES_WRITE = "queries.write"
    TRACE_AS_BUILT = "trace.as_built"
    TRACE_WHERE_USED = "trace.where_used"
    MASTER_DATA_READ = "masterdata.read"
    LEDGER_READ = "ledger.read"
    LEDGER_VERIFY = "ledger.verify"
    PARTIES_READ = "parties.read"
    PARTIES_WRITE = "parties.write"
    USERS_READ = "users.read"
    USERS_WRITE = "users.write"
    KEYS_READ = "keys.read"
    KEYS_WRITE = "keys.write"
    SHARES_READ = "shares.read"
    SHARES_WRITE = "shares.write"
    PASSPORT_READ = "passport.read"
    PASSPORT_WRITE = "passport.write"
    EPR_READ = "epr.read"
    COMPLIANCE_READ = "compliance.read"
    COMPLIANCE_WRITE = "compliance.write"
    DEMO_GENERATE = "demo.generate"


class Effect(StrEnum):
    """What a rule lets a role do."""

    ALLOW = "allow"  # allowed, every result
    SCOPED = "scoped"  # allowed, results limited to the principal's visibility
    OWN = "own"  # allowed on the principal's own party's objects only
    DENY = "deny"


ROLES: tuple[str, ...] = ("anonymous", *(r.value for r in PartyRole))

_CODE = {"A": Effect.ALLOW, "S": Effect.SCOPED, "O": Effect.OWN, "-": Effect.DENY}


def _row(codes: str) -> dict[str, Effect]:
    letters = codes.split()
    if len(letters) != len(ROLES):  # pragma: no cover - a malformed table fails at import in every test
        raise ValueError(f"rule row {codes!r} needs {len(ROLES)} entries")
    return {role: _CODE[letter] for role, letter in zip(ROLES, letters, strict=True)}


# Columns: anonymous, manufacturer, supplier, importer, dealer, repairer, recycler, lab, authority, operator.
# A = allow, S = scoped to what the party may see, O = own party's objects only, - = deny.
RULES: dict[Op, dict[str, Effect]] = {
    Op.PUBLIC: _row("A A A A A A A A A A"),
    Op.ACCOUNT: _row("- O O O O O O O O O"),
    # Events: one's own captures, events about units one owns or was shared, at one's sites; an authority
    # also those about vehicles sold in the markets of its mandate. The operator is not a business party.
    Op.EVENTS_READ: _row("- S S S S S S S S S"),
    # Authorities observe; they do not write supply-chain events. The operator runs the node, not a plant.
    Op.EVENTS_CAPTURE: _row("- A A A A A A A - -"),
    Op.CAPTURE_JOBS_READ: _row("- O O O O O O O O O"),
    # Named queries (EPCIS 2.0 REST /queries) belong to the party that made them: it lists, reads and deletes
    # them; the operator sees every party's definitions (not their events: running one is events.read).
    Op.QUERIES_READ: _row("- O O O O O O O O A"),
    Op.QUERIES_WRITE: _row("- O O O O O O O O O"),
    Op.TRACE_AS_BUILT: _row("- S S S S S S S S S"),
    Op.TRACE_WHERE_USED: _row("- S S S S S S S S S"),
    # Master data names products, sites and parties: anyone signed in reads it, as a partner reads a label.
    Op.MASTER_DATA_READ: _row("- A A A A A A A A A"),
    # The ledger names every party's actions: a party reads its own entries; authorities and the
    # operator audit all of them. Anyone signed in may verify the chain (the answer names no data).
    Op.LEDGER_READ: _row("- O O O O O O O A A"),
    Op.LEDGER_VERIFY: _row("- A A A A A A A A A"),
    Op.PARTIES_READ: _row("- A A A A A A A A A"),
    Op.PARTIES_WRITE: _row("- - - - - - - - - A"),
    Op.USERS_READ: _row("- O O O O O O O O A"),
    Op.USERS_WRITE: _row("- O O O O O O O O A"),
    Op.KEYS_READ: _row("- O O O O O O O O A"),
    Op.KEYS_WRITE: _row("- O O O O O O O O A"),
    Op.SHARES_READ: _row("- O O O O O O O O A"),
    # Only an owner shares, and only what it owns; authorities get data by mandate, not by sharing it on.
    Op.SHARES_WRITE: _row("- O O O O O O O - -"),
    # Every caller reaches a passport; which fields it sees comes from the passport data and the
    # caller's passport role (Reg. (EU) 2023/1542 Art. 77(2)), applied by the passport service.
    Op.PASSPORT_READ: _row("A A A A A A A A A A"),
    # Issuing and importing passports: the economic operators that place batteries on the market
    # (manufacturer, battery maker, importer, Art. 77(1)), those that repurpose or recycle them
    # (Art. 77(7), 77(8)), and the operator.
    Op.PASSPORT_WRITE: _row("- A A A - A A - - A"),
    # Producer-responsibility figures: producers, recyclers (collection and recovery), authorities.
    Op.EPR_READ: _row("- A - A - - A - A A"),
    Op.COMPLIANCE_READ: _row("- A A A - - - A A A"),
    Op.COMPLIANCE_WRITE: _row("- A A A - - - A - A"),
    Op.DEMO_GENERATE: _row("- - - - - - - - - A"),
}

# Every endpoint of the application, by (method, path as declared). A route missing here is refused at
# run time and fails tests/access/test_routes_classified.py.
ROUTES: dict[tuple[str, str], Op] = {
    # API documentation and static files
    ("GET", "/openapi.json"): Op.PUBLIC,
    ("GET", "/docs"): Op.PUBLIC,
    ("GET", "/docs/oauth2-redirect"): Op.PUBLIC,
    ("GET", "/redoc"): Op.PUBLIC,
    # EPCIS 2.0 REST bindings
    ("OPTIONS", "/capture"): Op.PUBLIC,
    ("POST", "/capture"): Op.EVENTS_CAPTURE,
    ("GET", "/capture"): Op.CAPTURE_JOBS_READ,
    ("GET", "/capture/{capture_id}"): Op.CAPTURE_JOBS_READ,
    ("GET", "/events"): Op.EVENTS_READ,
    ("POST", "/events"): Op.EVENTS_CAPTURE,
    ("GET", "/events/{event_id:path}"): Op.EVENTS_READ,
    # EPCIS 2.0 REST top level: discovery is public; collections, items and their events are events.read
    # (each lists or answers only what the caller's visibility sees).
    ("OPTIONS", "/"): Op.PUBLIC,
    ("OPTIONS", "/events"): Op.PUBLIC,
    ("OPTIONS", "/capture/{capture_id}"): Op.PUBLIC,
    ("OPTIONS", "/events/{event_id:path}"): Op.PUBLIC,
    ("DELETE", "/nextPageToken/{token}"): Op.EVENTS_READ,
    ("GET", "/eventTypes"): Op.EVENTS_READ,
    ("OPTIONS", "/eventTypes"): Op.PUBLIC,
    ("GET", "/eventTypes/{value:path}"): Op.EVENTS_READ,
    ("OPTIONS", "/eventTypes/{value:path}"): Op.PUBLIC,
    ("GET", "/eventTypes/{value:path}/events"): Op.EVENTS_READ,
    ("OPTIONS", "/eventTypes/{value:path}/events"): Op.PUBLIC,
    ("GET", "/epcs"): Op.EVENTS_READ,
    ("OPTIONS", "/epcs"): Op.PUBLIC,
    ("GET", "/epcs/{value:path}"): Op.EVENTS_READ,
    ("OPTIONS", "/epcs/{value:path}"): Op.PUBLIC,
    ("GET", "/epcs/{value:path}/events"): Op.EVENTS_READ,
    ("OPTIONS", "/epcs/{value:path}/events"): Op.PUBLIC,
    ("GET", "/bizSteps"): Op.EVENTS_READ,
    ("OPTIONS", "/bizSteps"): Op.PUBLIC,
    ("GET", "/bizSteps/{value:path}"): Op.EVENTS_READ,
    ("OPTIONS", "/bizSteps/{value:path}"): Op.PUBLIC,
    ("GET", "/bizSteps/{value:path}/events"): Op.EVENTS_READ,
    ("OPTIONS", "/bizSteps/{value:path}/events"): Op.PUBLIC,
    ("GET", "/bizLocations"): Op.EVENTS_READ,
    ("OPTIONS", "/bizLocations"): Op.PUBLIC,
    ("GET", "/bizLocations/{value:path}"): Op.EVENTS_READ,
    ("OPTIONS", "/bizLocations/{value:path}"): Op.PUBLIC,
    ("GET", "/bizLocations/{value:path}/events"): Op.EVENTS_READ,
    ("OPTIONS", "/bizLocations/{value:path}/events"): Op.PUBLIC,
    ("GET", "/readPoints"): Op.EVENTS_READ,
    ("OPTIONS", "/readPoints"): Op.PUBLIC,
    ("GET", "/readPoints/{value:path}"): Op.EVENTS_READ,
    ("OPTIONS", "/readPoints/{value:path}"): Op.PUBLIC,
    ("GET", "/readPoints/{value:path}/events"): Op.EVENTS_READ,
    ("OPTIONS", "/readPoints/{value:path}/events"): Op.PUBLIC,
    ("GET", "/dispositions"): Op.EVENTS_READ,
    ("OPTIONS", "/dispositions"): Op.PUBLIC,
    ("GET", "/dispositions/{value:path}"): Op.EVENTS_READ,
    ("OPTIONS", "/dispositions/{value:path}"): Op.PUBLIC,
    ("GET", "/dispositions/{value:path}/events"): Op.EVENTS_READ,
    ("OPTIONS", "/dispositions/{value:path}/events"): Op.PUBLIC,
    ("OPTIONS", "/queries"): Op.PUBLIC,
    ("GET", "/queries"): Op.QUERIES_READ,
    ("POST", "/queries"): Op.QUERIES_WRITE,
    ("OPTIONS", "/queries/{query_name}"): Op.PUBLIC,
    ("GET", "/queries/{query_name}"): Op.QUERIES_READ,
    ("DELETE", "/queries/{query_name}"): Op.QUERIES_WRITE,
    ("OPTIONS", "/queries/{query_name}/events"): Op.PUBLIC,
    ("GET", "/queries/{query_name}/events"): Op.EVENTS_READ,
    # A query's subscriptions are its owner's, as the query is (EPCIS 2.0 REST .../subscriptions).
    ("OPTIONS", "/queries/{query_name}/subscriptions"): Op.PUBLIC,
    ("GET", "/queries/{query_name}/subscriptions"): Op.QUERIES_READ,
    ("POST", "/queries/{query_name}/subscriptions"): Op.QUERIES_WRITE,
    ("OPTIONS", "/queries/{query_name}/subscriptions/{subscription_id}"): Op.PUBLIC,
    ("GET", "/queries/{query_name}/subscriptions/{subscription_id}"): Op.QUERIES_READ,
    ("DELETE", "/queries/{query_name}/subscriptions/{subscription_id}"): Op.QUERIES_WRITE,
    # Genealogy
    ("GET", "/trace/as-built/{identifier:path}"): Op.TRACE_AS_BUILT,
    ("GET", "/trace/where-used/{identifier:path}"): Op.TRACE_WHERE_USED,
    # Master data (roadpass's own namespace: the EPCIS 2.0 REST bindings have none)
    ("GET", "/masterdata"): Op.MASTER_DATA_READ,
    ("GET", "/masterdata/{vocabulary_type}/{key:path}"): Op.MASTER_DATA_READ,
    # Ledger
    ("GET", "/ledger"): Op.LEDGER_READ,
    ("GET", "/ledger/verify"): Op.LEDGER_VERIFY,
    # Access: sessions, parties, users, keys, shares
    ("POST", "/auth/session"): Op.PUBLIC,
    ("DELETE", "/auth/session"): Op.ACCOUNT,
    ("GET", "/auth/me"): Op.ACCOUNT,
    ("GET", "/parties"): Op.PARTIES_READ,
    ("POST", "/parties"): Op.PARTIES_WRITE,
    ("GET", "/parties/{key}"): Op.PARTIES_READ,
    ("GET", "/users"): Op.USERS_READ,
    ("POST", "/users"): Op.USERS_WRITE,
    ("GET", "/keys"): Op.KEYS_READ,
    ("POST", "/keys"): Op.KEYS_WRITE,
    ("DELETE", "/keys/{key_id}"): Op.KEYS_WRITE,
    ("GET", "/shares"): Op.SHARES_READ,
    ("POST", "/shares"): Op.SHARES_WRITE,
    ("DELETE", "/shares/{share_id}"): Op.SHARES_WRITE,
    # Battery passports and producer responsibility
    ("GET", "/passports"): Op.PASSPORT_READ,
    ("GET", "/passports/{passport_id}"): Op.PASSPORT_READ,
    ("GET", "/passports/{passport_id}/export"): Op.PASSPORT_READ,
    ("GET", "/passports/{passport_id}/qr.{fmt}"): Op.PASSPORT_READ,
    ("POST", "/passports/import"): Op.PASSPORT_WRITE,
    ("POST", "/passports/issue"): Op.PASSPORT_WRITE,
    # Battery passports as Asset Administration Shells (AAS Part 2 V3.0 read subset; IDTA 02035-5 import)
    ("GET", "/shells"): Op.PASSPORT_READ,
    ("GET", "/shells/{aas_identifier}"): Op.PASSPORT_READ,
    ("GET", "/submodels"): Op.PASSPORT_READ,
    ("GET", "/submodels/{submodel_identifier}"): Op.PASSPORT_READ,
    ("GET", "/submodels/{submodel_identifier}/$value"): Op.PASSPORT_READ,
    ("POST", "/passports/{passport_id}/aas/product-condition"): Op.PASSPORT_WRITE,
    ("GET", "/epr/reports/{producer}/{member_state}/{year}"): Op.EPR_READ,
    ("GET", "/epr/registrations"): Op.EPR_READ,
    # Service records and warranty: a work order's part swaps are captured events (events.capture); a
    # vehicle's history, claims and what is due are read as its as-built tree is (scoped to the vehicles the
    # caller sees); deciding and settling a claim is limited to the vehicle's maker by the warranty service.
    ("POST", "/service-records"): Op.EVENTS_CAPTURE,
    ("GET", "/vehicles/{vin}/service-records"): Op.TRACE_AS_BUILT,
    ("GET", "/vehicles/{vin}/due"): Op.TRACE_AS_BUILT,
    ("GET", "/warranty/coverage"): Op.MASTER_DATA_READ,
    ("POST", "/warranty/claims"): Op.EVENTS_CAPTURE,
    ("GET", "/warranty/claims/{claim_key}"): Op.TRACE_AS_BUILT,
    ("POST", "/warranty/claims/{claim_key}/decision"): Op.EVENTS_CAPTURE,
    ("POST", "/warranty/claims/{claim_key}/settlement"): Op.EVENTS_CAPTURE,
    ("GET", "/ui/service"): Op.TRACE_AS_BUILT,
    ("GET", "/ui/service/{vin}"): Op.TRACE_AS_BUILT,
    ("POST", "/ui/service/{vin}"): Op.EVENTS_CAPTURE,
    # Compliance
    ("GET", "/compliance/packs"): Op.COMPLIANCE_READ,
    ("GET", "/compliance/products"): Op.COMPLIANCE_READ,
    ("POST", "/compliance/products"): Op.COMPLIANCE_WRITE,
    ("GET", "/compliance/products/{key}"): Op.COMPLIANCE_READ,
    ("POST", "/compliance/products/{key}/sbom"): Op.COMPLIANCE_WRITE,
    ("GET", "/compliance/evidence"): Op.COMPLIANCE_READ,
    ("POST", "/compliance/evidence"): Op.COMPLIANCE_WRITE,
    ("GET", "/compliance/assess/{product}/{market}"): Op.COMPLIANCE_READ,
    ("GET", "/compliance/matrix"): Op.COMPLIANCE_READ,
    ("GET", "/compliance/plan/{product}/{market}"): Op.COMPLIANCE_READ,
    ("GET", "/compliance/diff/{product}/{market}"): Op.COMPLIANCE_READ,
    ("GET", "/compliance/history/{product}/{market}"): Op.COMPLIANCE_READ,
    ("GET", "/compliance/actions"): Op.COMPLIANCE_READ,
    ("POST", "/compliance/decisions"): Op.COMPLIANCE_WRITE,
    ("GET", "/compliance/decisions"): Op.COMPLIANCE_READ,
    ("GET", "/compliance/connected-vehicle/{product}"): Op.COMPLIANCE_READ,
    ("GET", "/compliance/oscal/{product}/{market}"): Op.COMPLIANCE_READ,
    ("GET", "/compliance/ciso-assistant/{market}"): Op.COMPLIANCE_READ,
    ("GET", "/compliance/report.html"): Op.COMPLIANCE_READ,
    ("GET", "/compliance/report.pdf"): Op.COMPLIANCE_READ,
    # Recall campaigns: a manufacturer (or supplier, importer) opens one; reading is scoped (the recall
    # service shows each caller the vehicles of its campaign, its market or its mandate); authority reports
    # are compliance reads.
    ("POST", "/recalls"): Op.COMPLIANCE_WRITE,
    ("GET", "/recalls"): Op.TRACE_WHERE_USED,
    ("GET", "/recalls/{campaign_key}"): Op.TRACE_WHERE_USED,
    ("GET", "/recalls/{campaign_key}/curve.svg"): Op.TRACE_WHERE_USED,
    ("POST", "/recalls/{campaign_key}/refresh"): Op.COMPLIANCE_WRITE,
    ("GET", "/recalls/{campaign_key}/reports/{form_id}"): Op.COMPLIANCE_READ,
    ("GET", "/recall-notices"): Op.ACCOUNT,
    ("GET", "/recalls-for/{identifier:path}"): Op.TRACE_WHERE_USED,
    ("GET", "/ui/recalls"): Op.TRACE_WHERE_USED,
    ("GET", "/ui/recalls/{campaign_key}"): Op.TRACE_WHERE_USED,
    # Web pages
    ("GET", "/"): Op.PUBLIC,
    ("GET", "/signin"): Op.PUBLIC,
    ("POST", "/signin"): Op.PUBLIC,
    ("POST", "/signout"): Op.ACCOUNT,
    ("GET", "/ui/trace"): Op.TRACE_AS_BUILT,
    ("GET", "/ui/trace/events"): Op.EVENTS_READ,
    ("GET", "/ui/where-used"): Op.TRACE_WHERE_USED,
    ("GET", "/ui/ledger"): Op.LEDGER_READ,
    ("GET", "/ui/subscriptions"): Op.QUERIES_READ,
    ("POST", "/ui/ledger/verify"): Op.LEDGER_VERIFY,
    ("GET", "/ui/compliance"): Op.COMPLIANCE_READ,
    ("GET", "/ui/passports"): Op.PASSPORT_READ,
    ("GET", "/ui/passports/{passport_id}"): Op.PASSPORT_READ,
    ("GET", "/passport/{passport_id}"): Op.PASSPORT_READ,
    ("GET", "/01/{gtin}/21/{serial}"): Op.PASSPORT_READ,
    # GS1 Digital Link resolver: anyone may scan; which links a caller sees is decided per link from this
    # table (an operation) or the passport audience (roadpass.resolver, link-types.yaml).
    ("GET", "/{ai:gs1primary}/{rest:path}"): Op.PUBLIC,
    ("GET", "/.well-known/gs1resolver"): Op.PUBLIC,
    ("GET", "/item/{ai:gs1primary}/{rest:path}"): Op.PUBLIC,
    ("GET", "/vehicle/{vin}"): Op.PUBLIC,
    ("GET", "/ui/account"): Op.ACCOUNT,
    ("POST", "/ui/account/keys"): Op.KEYS_WRITE,
    ("POST", "/ui/account/keys/{key_id}/revoke"): Op.KEYS_WRITE,
    ("POST", "/ui/account/shares"): Op.SHARES_WRITE,
    ("POST", "/ui/account/shares/{share_id}/revoke"): Op.SHARES_WRITE,
    ("GET", "/ui/capture"): Op.EVENTS_CAPTURE,
    ("POST", "/ui/capture"): Op.EVENTS_CAPTURE,
    ("POST", "/ui/demo"): Op.DEMO_GENERATE,
    ("GET", "/ui/jobs/{job_id}"): Op.ACCOUNT,
    # Repair network (SERMI) and genuine parts. The node operator records repairers, approvals and
    # authorisations as the assessing bodies issue them; an employer revokes its own people's; a repairer asks
    # for security-related access (a write, as a capture is); who sees which accesses is the ledger's rule
    # (own party; authorities and the operator all, narrowed by the service to an authority's markets).
    ("GET", "/repairers"): Op.PARTIES_READ,
    ("POST", "/repairers"): Op.PARTIES_WRITE,
    ("POST", "/repairers/{party}/sites"): Op.PARTIES_WRITE,
    ("POST", "/repairers/{party}/approvals"): Op.PARTIES_WRITE,
    ("POST", "/repairers/{party}/authorisations"): Op.PARTIES_WRITE,
    ("GET", "/repairers/{party}/authorisations"): Op.USERS_READ,
    ("POST", "/authorisations/{key}/revoke"): Op.USERS_WRITE,
    ("GET", "/rmi/{vin}"): Op.PARTIES_READ,
    ("POST", "/security-access"): Op.EVENTS_CAPTURE,
    ("POST", "/security-access/use"): Op.EVENTS_CAPTURE,
    ("GET", "/security-access"): Op.LEDGER_READ,
    ("GET", "/parts/check"): Op.TRACE_WHERE_USED,
    ("POST", "/parts/reports"): Op.EVENTS_CAPTURE,
    ("GET", "/parts/checks"): Op.LEDGER_READ,
    ("GET", "/ui/repairers"): Op.PARTIES_READ,
    ("GET", "/ui/parts/check"): Op.TRACE_WHERE_USED,
    # Telematics: ingest counters name no data; a unit's broker account is a key for a unit the party sees;
    # signal series are observations about a unit, scoped like its events.
    ("GET", "/telematics/status"): Op.PARTIES_READ,
    ("POST", "/telematics/units/{unit:path}/credentials"): Op.KEYS_WRITE,
    ("DELETE", "/telematics/units/{unit:path}/credentials"): Op.KEYS_WRITE,
    ("GET", "/telematics/series"): Op.EVENTS_READ,
    # Software updates (UN R156): a unit's report is an observation, written as a capture is; vehicle types
    # and campaigns are homologation records (compliance); a vehicle's history is read as its as-built tree
    # (scoped to the vehicles the caller sees).
    ("GET", "/software/vehicle-types"): Op.MASTER_DATA_READ,
    ("POST", "/software/vehicle-types"): Op.COMPLIANCE_WRITE,
    ("POST", "/software/units/{unit:path}/reports"): Op.EVENTS_CAPTURE,
    ("GET", "/software/campaigns"): Op.COMPLIANCE_READ,
    ("POST", "/software/campaigns"): Op.COMPLIANCE_WRITE,
    ("GET", "/software/campaigns/{key}"): Op.COMPLIANCE_READ,
    ("GET", "/software/vehicles/{identifier:path}/history"): Op.TRACE_AS_BUILT,
    ("GET", "/ui/software"): Op.COMPLIANCE_READ,
    ("GET", "/ui/software/{key}"): Op.COMPLIANCE_READ,
    # Regional nodes: the node and its peers, with subscriptions' outboxes and transfers (ledgered): a party
    # sees its own subscriptions, authorities and the operator every party's (the ledger's rule).
    ("GET", "/nodes"): Op.LEDGER_READ,
    # Where-used across regions: scoped as a where-used is; the peer side answers only a peer node's party.
    ("GET", "/federation/where-used"): Op.TRACE_WHERE_USED,
    ("GET", "/federation/peer/where-used"): Op.TRACE_WHERE_USED,
    # Recalls across regions: relaying is opening a campaign elsewhere (as POST /recalls); its status is read
    # as a campaign is; the peer side answers only a peer node's party.
    ("POST", "/federation/recalls/{campaign_key}/relay"): Op.COMPLIANCE_WRITE,
    ("GET", "/federation/recalls/{campaign_key}"): Op.TRACE_WHERE_USED,
    ("POST", "/federation/peer/recalls"): Op.COMPLIANCE_WRITE,
    ("GET", "/federation/peer/recalls/{campaign_key}"): Op.TRACE_WHERE_USED,
    # Battery health across regions: a peer node writes a battery's passport health (the service accepts only
    # a peer's party).
    ("POST", "/federation/peer/health"): Op.PASSPORT_WRITE,
    # Aggregates across regions: counts that single no one out (groups of at least k), read as the node's status
    # is; a peer node delivers its batches as a capture is delivered (the service accepts only a peer's party).
    ("GET", "/nodes/aggregates"): Op.LEDGER_READ,
    ("POST", "/federation/peer/aggregates"): Op.EVENTS_CAPTURE,
}


def rule_table_markdown() -> str:
    """The rule table as Markdown (README.md carries it; a test keeps the two equal)."""
    mark = {Effect.ALLOW: "✓", Effect.SCOPED: "scoped", Effect.OWN: "own", Effect.DENY: "—"}
    lines = ["| operation | " + " | ".join(ROLES) + " |", "| --- |" + " --- |" * len(ROLES)]
    for op, row in RULES.items():
        lines.append(f"| `{op.value}` | " + " | ".join(mark[row[role]] for role in ROLES) + " |")
    return "\n".join(lines)


def operation_for(method: str, path: str) -> Op | None:
    """The operation of an endpoint (``HEAD`` is ``GET``), or None when the route is unclassified."""
    return ROUTES.get(("GET" if method == "HEAD" else method, path))


@dataclass(frozen=True, slots=True)
class Decision:
    """The answer for one request: ``status`` is 200 (go on), 401 (sign in), 403 (denied) or 404 (denied,
    answered as not found because existence itself is confidential); ``rule`` names the rule applied."""

    allowed: bool
    status: int
    effect: Effect
    rule: str
    reason: str = ""
    visibility: Visibility | None = None


def effect(op: Op, role: str) -> Effect:
    """The table's effect for ``role`` (unknown roles are denied)."""
    return RULES[op].get(role, Effect.DENY)


def decide(principal: Principal, op: Op | None) -> Decision:
    """May ``principal`` perform ``op`` at all? (Per-object checks follow in the handler: scope, own.)"""
    if principal.via == "open":
        return Decision(True, 200, Effect.ALLOW, "authorisation switched off (ROADPASS_AUTH_ENABLED=false)")
    if op is None:
        return Decision(False, 403, Effect.DENY, "unclassified endpoint", "no access rule covers this endpoint")
    role = principal.role
    found = effect(op, role)
    rule = f"{op.value} × {role} → {found.value}"
    if found is Effect.DENY:
        if not principal.signed_in:
            return Decision(False, 401, found, rule, "sign in or send an API key (Authorization: Bearer …)")
        return Decision(False, 403, found, rule, f"a {role} may not {op.value}")
    visibility = principal.visibility if found is Effect.SCOPED else None
    return Decision(True, 200, found, rule, visibility=visibility)


def decide_unit(principal: Principal, op: Op, key: str, market: str | None) -> Decision:
    """May ``principal`` see the unit ``key`` (sold in ``market``) under ``op``? Denials answer 404."""
    decision = decide(principal, op)
    if not decision.allowed or decision.effect is not Effect.SCOPED or principal.visibility is None:
        return decision
    if principal.visibility.sees_unit(key, market):
        return decision
    return Decision(False, 404, Effect.SCOPED, decision.rule, "the unit is neither yours nor shared with you")


def decide_own(principal: Principal, op: Op, party_id: int | None, *, needs_admin: bool = False) -> Decision:
    """May ``principal`` act under ``op`` on an object of party ``party_id``? (Users: only party admins.)"""
    decision = decide(principal, op)
    if not decision.allowed or decision.effect is not Effect.OWN:
        return decision
    party = principal.party
    if party is None or party.id != party_id:
        return Decision(False, 404, Effect.OWN, decision.rule, "it belongs to another party")
    if needs_admin and not principal.party_admin:
        return Decision(False, 403, Effect.OWN, decision.rule, "only the party's administrators may do this")
    return decision


def decide_share(principal: Principal, target: str) -> Decision:
    """May ``principal`` share ``target`` (a canonical key or product key prefix)? Only what it owns."""
    decision = decide(principal, Op.SHARES_WRITE)
    if not decision.allowed or decision.effect is not Effect.OWN:
        return decision
    if owns_key(principal, target):
        return decision
    return Decision(False, 403, Effect.OWN, decision.rule, "a party may share only keys issued under its own "
                    "GS1 company prefix")


def owns_key(principal: Principal, key: str) -> bool:
    """True when ``key`` was issued under the principal's party's GS1 company prefix."""
    party = principal.party
    return party is not None and key.startswith(owned_prefixes(party.gcp))


def scope_of(principal: Principal) -> Visibility | None:
    """Whose vehicles and units a caller acts on or reads about where the rule simply allows its role the
    operation (``events.capture``, ``compliance.read``): its party's own visibility, whatever the effect, so
    that an allowed write or a campaign's VIN list still reaches only the party's (or shared) objects. None
    (everything) for the node operator and an open node; a caller without a visibility sees nothing."""
    if principal.via == "open" or principal.role == PartyRole.OPERATOR:
        return None
    return principal.visibility or Visibility()  # fail closed: no precomputed visibility sees nothing


def passport_role(principal: Principal, legitimate_interest_roles: Iterable[str]) -> str:
    """The passport audience (Art. 77(2)) of the caller: a value of ``roadpass.passport.access.Role``."""
    role = principal.role
    if role == PartyRole.AUTHORITY:
        return "authority"
    if role in set(legitimate_interest_roles):
        return "legitimate_interest"
    return "public"


def visibility_for(party: Party, shares: Iterable[Share], markets: Iterable[str], now_us: int) -> Visibility:
    """What ``party`` may see: its captures, its GS1 keys, its sites, its active shares, its mandate."""
    exact: set[str] = set()
    products: list[str] = []
    for share in shares:
        if not share.active(now_us):
            continue
        if share.kind is ShareKind.PRODUCT:
            products.append(share.target)
        else:
            exact.add(share.target)
    return Visibility(
        actor_prefixes=(actor_prefix(party.key),),
        unit_prefixes=owned_prefixes(party.gcp) + tuple(sorted(products)),
        unit_keys=frozenset(exact),
        location_prefixes=location_prefixes(party.gcp),
        markets=frozenset(markets) if party.role == PartyRole.AUTHORITY else frozenset(),
    )
