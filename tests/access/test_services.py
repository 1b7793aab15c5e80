"""The access and administration services on in-memory records (no database): input rules, mandates,
principals, refusals and their denials, share targets, the home page's figures, the demo sign-ins."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import pytest

from fakes import InMemoryTransactions
from roadpass.access.admin import AdminError, AdminService
from roadpass.access.demo import DEMO_SIGN_INS, ensure_demo_access
from roadpass.access.model import Caller, Party, Principal, ShareKind, now_us
from roadpass.access.policy import Decision, Effect, Op
from roadpass.access.service import AccessService, Refused, SignInFailed
from roadpass.settings import Settings
from roadpass.web.home import home_context

from .fakes import FakeAccessRecords, FakeUnits, Unit

DAY = 86_400_000_000
MAKER_GCP = "4000001"
VEHICLE = f"https://id.gs1.org/8004/{MAKER_GCP}V1"
LOT = f"https://id.gs1.org/01/0{MAKER_GCP}000012/10/L1"
OTHER = "https://id.gs1.org/8004/5000001X1"


@dataclass
class Node:
    """The two services on one in-memory store."""

    records: FakeAccessRecords
    access: AccessService
    admin: AdminService
    settings: Settings


@pytest.fixture
def node() -> Iterator[Node]:
    records = FakeAccessRecords(units=[
        Unit(VEHICLE, "VIN00000000000001", market="DE"),
        Unit(f"https://id.gs1.org/8004/{MAKER_GCP}V2", "VIN00000000000002", market="FR"),
        Unit(LOT, kind=2),
        Unit(OTHER, "VIN00000000000009", market="DE"),
    ], events=[f"https://id.gs1.org/414/{MAKER_GCP}00001", "https://id.gs1.org/414/5000001000001"])
    settings = Settings(database_url="sqlite://", environment="test")
    access = AccessService(InMemoryTransactions(records), settings)
    admin = AdminService(InMemoryTransactions(records), access, FakeUnits({"VIN00000000000001": VEHICLE}), settings)
    yield Node(records, access, admin, settings)
    access.close()


def _party(node: Node, key: str, role: str, gcp: str | None = None, country: str = "DE") -> Party:
    return node.admin.create_party(actor="test", key=key, name=key.title(), role=role, country=country, gcp=gcp)


def _principal(node: Node, party: Party) -> Principal:
    made, _ = node.admin.create_api_key(actor="test", party_id=party.id, name="client", days=1)
    principal = node.access.principal_for_key(made.token)
    assert principal is not None
    return principal


def _field(call: Any) -> str:
    with pytest.raises(AdminError) as raised:
        call()
    return raised.value.field


def test_bad_input_is_refused_naming_the_field(node: Node) -> None:
    admin = node.admin
    party = _party(node, "acme", "manufacturer", MAKER_GCP)
    assert _field(lambda: _party(node, "x", "wizard")) == "role"
    assert _field(lambda: _party(node, "x", "dealer", country="DEU")) == "country"
    assert _field(lambda: _party(node, "x", "dealer", gcp="12")) == "gcp"
    assert _field(lambda: _party(node, "Bad Key", "dealer")) == "key"
    assert _field(lambda: admin.create_user(actor="t", party_key="acme", email="no-at", name="", password="x" * 10)
                  ) == "email"
    assert _field(lambda: admin.create_user(actor="t", party_key="acme", email="a@b.example", name="",
                                            password="short")) == "password"
    assert _field(lambda: admin.create_user(actor="t", party_key="nobody", email="a@b.example", name="",
                                            password="x" * 10)) == "party"
    admin.create_user(actor="t", party_key="acme", email="Ana@B.example", name="", password="x" * 10)
    assert _field(lambda: admin.create_user(actor="t", party_key="acme", email="ana@b.example ", name="",
                                            password="x" * 10)) == "email"
    assert _field(lambda: admin.create_api_key(actor="t", party_id=party.id, name="k", days=0)) == "days"
    assert _field(lambda: admin.create_api_key(actor="t", party_id=party.id, name=" ")) == "name"
    assert [u.email for u, _ in admin.users()] == ["ana@b.example"]


def test_a_mandate_is_normalised_and_only_grows(node: Node) -> None:
    _party(node, "kba", "authority")
    _party(node, "fix", "repairer")
    assert node.admin.set_mandate(actor="t", party_key="kba", markets=["de", " at "]) == ["AT", "DE"]
    assert node.admin.set_mandate(actor="t", party_key="kba", markets=["DE", "FR"]) == ["AT", "DE", "FR"]
    assert sum(1 for _, action in node.records.ledger if action == "mandate.add") == 3
    assert _field(lambda: node.admin.set_mandate(actor="t", party_key="fix", markets=["DE"])) == "party"
    assert _field(lambda: node.admin.set_mandate(actor="t", party_key="kba", markets=["DEU"])) == "markets"


def test_an_authority_without_a_mandate_surveys_its_own_country(node: Node) -> None:
    authority = _party(node, "ilt", "authority", country="NL")
    made, _ = node.admin.create_api_key(actor="t", party_id=authority.id, name="client", days=1)
    first = node.access.principal_for_key(made.token)
    assert first is not None and first.visibility is not None and first.visibility.markets == {"NL"}
    node.admin.set_mandate(actor="t", party_key="ilt", markets=["DE"])  # clears the cache
    second = node.access.principal_for_key(made.token)
    assert second is not None and second.visibility is not None and second.visibility.markets == {"DE"}
    dealer = _principal(node, _party(node, "shop", "dealer"))
    assert dealer.visibility is not None and dealer.visibility.markets == frozenset()


def test_a_disabled_user_can_neither_sign_in_nor_use_its_key_or_session(node: Node) -> None:
    party = _party(node, "acme", "manufacturer", MAKER_GCP)
    user = node.admin.create_user(actor="t", party_key="acme", email="ana@acme.example", name="Ana",
                                  password="long-enough-pw")
    made, _ = node.admin.create_api_key(actor="t", party_id=party.id, name="client", days=1, user_id=user.id)
    signed = node.access.sign_in("ANA@acme.example", "long-enough-pw")
    assert signed.principal.actor == "party:acme/user:ana@acme.example" and signed.principal.csrf
    assert node.access.principal_for_session(signed.token) is not None
    assert node.access.principal_for_key(made.token) is not None
    node.admin.disable_user(actor="t", email="ana@acme.example")
    assert node.access.principal_for_key(made.token) is None
    assert node.access.principal_for_session(signed.token) is None
    with pytest.raises(SignInFailed):
        node.access.sign_in("ana@acme.example", "long-enough-pw")
    node.admin.disable_user(actor="t", email="ana@acme.example", disabled=False)
    again = node.access.sign_in("ana@acme.example", "long-enough-pw")
    node.access.sign_out(again.principal)
    assert node.access.principal_for_session(again.token) is None


def test_refusals_are_ledgered_and_unknown_objects_are_not(node: Node) -> None:
    maker = _party(node, "acme", "manufacturer", MAKER_GCP)
    _party(node, "fix", "repairer")
    other = _principal(node, _party(node, "rival", "manufacturer", "5000001"))
    caller = Caller(other, "DELETE", "/keys/{key_id}")
    made, _ = node.admin.create_api_key(actor="t", party_id=maker.id, name="spare", days=1)
    with pytest.raises(Refused) as refused:
        node.admin.revoke_api_key_as(caller, made.key_id)
    assert refused.value.decision.status == 404
    assert [(d.actor, d.operation, d.path, d.status) for d in node.records.denials] == [
        ("party:rival/key:" + str(other.key_id), "keys.write", "/keys/{key_id}", 404)
    ]
    with pytest.raises(Refused) as unknown:
        node.admin.revoke_api_key_as(caller, "000000000000")
    assert unknown.value.decision.status == 404 and len(node.records.denials) == 1
    with pytest.raises(Refused) as not_owned:
        node.admin.share_as(Caller(other, "POST", "/shares"), grantee_key="fix", kind=ShareKind.UNIT,
                            target="VIN00000000000001", purpose="repair", valid_until=now_us() + DAY)
    assert not_owned.value.decision.status == 403 and len(node.records.denials) == 2
    owner = _principal(node, maker)
    share = node.admin.share_as(Caller(owner), grantee_key="fix", kind=ShareKind.UNIT, target="VIN00000000000001",
                                purpose="repair", valid_until=now_us() + DAY)
    assert share.target == VEHICLE and share.grantee == "fix"
    with pytest.raises(Refused):
        node.admin.revoke_share_as(caller, share.id)
    node.admin.revoke_share_as(Caller(owner), share.id)
    assert node.admin.shares(party_id=maker.id)[0].revoked_at is not None
    user, party = node.admin.add_user_as(Caller(Principal(party=maker, party_admin=True, via="session")),
                                         party_key=None, email="bo@acme.example", name="Bo", password="x" * 10)
    assert party.key == "acme" and user.party_id == maker.id
    with pytest.raises(Refused) as not_admin:
        node.admin.add_user_as(Caller(owner), party_key=None, email="cy@acme.example", name="", password="x" * 10)
    assert not_admin.value.decision.status == 403


def test_a_share_names_a_product_lot_unit_or_vin(node: Node) -> None:
    target = node.admin.share_target
    assert target(ShareKind.PRODUCT, "04000001000012") == "https://id.gs1.org/01/04000001000012/"
    assert target(ShareKind.PRODUCT, "https://id.gs1.org/01/04000001000012/21/7") == (
        "https://id.gs1.org/01/04000001000012/")
    assert target(ShareKind.UNIT, "VIN00000000000001") == VEHICLE
    assert target(ShareKind.LOT, LOT) == LOT
    for kind, value in ((ShareKind.PRODUCT, "123"), (ShareKind.UNIT, "VIN00000000000077"),
                        (ShareKind.LOT, VEHICLE), (ShareKind.UNIT, "urn:epc:id:sgtin:bad")):
        assert _field(lambda kind=kind, value=value: target(kind, value)) == "target"


def test_a_trusted_share_still_covers_only_what_the_grantor_owns(node: Node) -> None:
    _party(node, "acme", "manufacturer", MAKER_GCP)
    _party(node, "fix", "repairer")
    until = now_us() + DAY
    share = node.admin.share_owned(actor="cli:root", grantor_key="acme", grantee_key="fix", kind=ShareKind.PRODUCT,
                                   target=f"0{MAKER_GCP}000012", purpose="repair", valid_until=until)
    assert share.grantor == "acme"
    with pytest.raises(AdminError, match="does not own"):
        node.admin.share_owned(actor="cli:root", grantor_key="fix", grantee_key="acme", kind=ShareKind.PRODUCT,
                               target=f"0{MAKER_GCP}000012", purpose="x", valid_until=until)
    assert _field(lambda: node.admin.share_owned(actor="cli:root", grantor_key="acme", grantee_key="acme",
                                                 kind=ShareKind.LOT, target=LOT, purpose="x",
                                                 valid_until=until)) == "grantee"
    assert _field(lambda: node.admin.share_owned(actor="cli:root", grantor_key="acme", grantee_key="fix",
                                                 kind=ShareKind.LOT, target=LOT, purpose="x",
                                                 valid_until=1)) == "validUntil"


def test_the_home_figures_stay_inside_each_partys_scope(node: Node) -> None:
    maker = _party(node, "acme", "manufacturer", MAKER_GCP)
    fix = _party(node, "fix", "repairer")
    authority = _party(node, "kba", "authority")
    node.admin.grant_share(actor="t", grantor=maker, grantee_key="fix", kind=ShareKind.UNIT, target_key=VEHICLE,
                           purpose="repair", valid_until=now_us() + 10 * DAY)
    own = node.access.overview(_principal(node, maker))
    assert own.vehicles is not None and own.vehicles.count == 2
    assert own.vehicles.sample == ["VIN00000000000001", "VIN00000000000002"]
    assert own.lots is not None and own.lots.sample == [LOT]
    assert own.shared is None and own.on_markets is None and own.parties_by_role is None
    assert own.shares_ending == 1 and own.site_events == 1
    repairer = node.access.overview(_principal(node, fix))
    assert repairer.shared is not None and (repairer.shared.count, repairer.shared.sample) == (
        1, ["VIN00000000000001"])
    assert repairer.vehicles is not None and repairer.vehicles.count == 0 and repairer.shares_ending == 1
    surveying = node.access.overview(_principal(node, authority))
    assert surveying.markets == ["DE"] and surveying.on_markets is not None
    assert surveying.on_markets.count == 2 and surveying.on_markets.sample == ["VIN00000000000001",
                                                                               "VIN00000000000009"]
    not_yours = Decision(False, 404, Effect.SCOPED, "events.read × repairer → scoped", "not yours")
    node.access.refuse(Caller(_principal(node, fix), "GET", "/events/{event_id:path}"), Op.EVENTS_READ, not_yours)
    assert node.access.overview(_principal(node, fix)).denied == 1
    operator = node.access.overview(_principal(node, _party(node, "ops", "operator")))
    assert operator.parties_by_role == {"authority": 1, "manufacturer": 1, "operator": 1, "repairer": 1}
    assert operator.keys_expiring == len(node.records.keys_)  # every one-day key made above


def test_the_home_page_turns_the_figures_into_cards(node: Node) -> None:
    maker = _party(node, "acme", "manufacturer", MAKER_GCP)
    rp: Any = SimpleNamespace(access=node.access, settings=node.settings)
    context = home_context(rp, _principal(node, maker))
    titles = [item.title for item in context["items"]]
    assert titles == ["Your vehicles", "Your lots: where are they used?", "Events at your sites"]
    assert context["samples"] == {"vin": "VIN00000000000001", "lot": LOT}
    assert context["compliance"] == "/ui/compliance" and context["demo"] is False
    assert home_context(rp, Principal())["landing"] is True


def test_demo_sign_ins_are_made_once_in_development_only(node: Node) -> None:
    assert ensure_demo_access(node.admin, environment="development") == []  # no demo fleet yet
    for key, role in (("lanxing", "manufacturer"), ("workshop_de_1", "repairer"), ("minjiang_cell", "supplier")):
        _party(node, key, role)
    assert ensure_demo_access(node.admin, environment="test") == []
    ready = ensure_demo_access(node.admin, environment="development")
    assert [d.email for d in ready] == [d.email for d in DEMO_SIGN_INS]
    assert node.admin.set_mandate(actor="t", party_key="msa_de", markets=[]) == ["DE"]
    lanxing = node.access.party("lanxing")
    assert lanxing is not None
    assert sorted(s.target for s in node.admin.shares(party_id=lanxing.id)) == [VEHICLE, OTHER]
    writes = len(node.records.ledger)
    assert ensure_demo_access(node.admin, environment="development") == ready
    assert len(node.records.ledger) == writes
