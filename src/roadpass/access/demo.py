"""Demo sign-ins (development only): users for several roles, an authority's mandate, a carmaker's shares.

The passwords are published here on purpose: they exist only in ``ROADPASS_ENVIRONMENT=development``
databases that hold the generated demo fleet, never elsewhere.
"""

from __future__ import annotations

from dataclasses import dataclass

from roadpass.access.admin import AdminService
from roadpass.access.model import now_us

__all__ = ["DEMO_ACTOR", "DEMO_SIGN_INS", "DemoSignIn", "ensure_demo_access"]

DEMO_ACTOR = "demo-generator"
_YEAR_US = 365 * 86_400_000_000
# Independent repairers get vehicle repair and maintenance information from the manufacturer
# (Reg. (EU) 2018/858 Art. 61); in the demo the carmaker shares its German vehicles with a German workshop.
RMI_PURPOSE = "repair and maintenance information (Reg. (EU) 2018/858 Art. 61)"


@dataclass(frozen=True, slots=True)
class DemoSignIn:
    """A demo user: email, password, the party it belongs to, and what it shows."""

    email: str
    password: str
    party: str
    role: str
    what: str


DEMO_SIGN_INS: tuple[DemoSignIn, ...] = (
    DemoSignIn("carmaker@lanxing.example", "lanxing-demo-2026", "lanxing", "manufacturer",
               "carmaker: its vehicles, production, recalls"),
    DemoSignIn("repairer@becker.example", "becker-demo-2026", "workshop_de_1", "repairer",
               "repairer in Germany: the German vehicles the carmaker shared"),
    DemoSignIn("surveillance@msa-de.example", "msa-de-demo-2026", "msa_de", "authority",
               "market-surveillance authority: vehicles sold in Germany"),
    DemoSignIn("cells@minjiang.example", "minjiang-demo-2026", "minjiang_cell", "supplier",
               "cell maker: its cell lots and where they are used"),
    DemoSignIn("operator@roadpass.example", "operator-demo-2026", "roadpass_operator", "operator",
               "node operator: parties, users, keys, the ledger"),
)

_EXTRA_PARTIES = (
    ("msa_de", "Market surveillance authority Germany (demo)", "authority", "DE"),
    ("roadpass_operator", "roadpass node operator (demo)", "operator", "DE"),
)


def _title(what: str) -> str:
    head = what.split(":")[0]
    return head[:1].upper() + head[1:]


def ensure_demo_access(admin: AdminService, *, environment: str) -> list[DemoSignIn]:
    """Create the demo users (and their parties, mandate and shares) once; development databases only.

    Returns the sign-ins that exist (empty outside development or without the demo fleet's parties).
    """
    if environment != "development":
        return []
    have = {p.key for p in admin.access.parties()}
    if "lanxing" not in have:
        return []
    for key, name, role, country in _EXTRA_PARTIES:
        if key not in have:
            admin.create_party(actor=DEMO_ACTOR, key=key, name=name, role=role, country=country)
            have.add(key)
    admin.set_mandate(actor=DEMO_ACTOR, party_key="msa_de", markets=["DE"])
    users = {u.email for u, _ in admin.users()}
    ready: list[DemoSignIn] = []
    for demo in DEMO_SIGN_INS:
        if demo.party not in have:
            continue
        if demo.email not in users:
            admin.create_user(actor=DEMO_ACTOR, party_key=demo.party, email=demo.email, name=_title(demo.what),
                              password=demo.password, party_admin=True)
        ready.append(demo)
    _share_german_vehicles(admin)
    return ready


def _share_german_vehicles(admin: AdminService) -> None:
    carmaker = admin.access.party("lanxing")
    workshop = admin.access.party("workshop_de_1")
    if carmaker is None or workshop is None:
        return
    if any(s.grantee == workshop.key for s in admin.shares(party_id=carmaker.id)):
        return
    admin.share_market_vehicles(actor=f"party:{carmaker.key}/user:{DEMO_SIGN_INS[0].email}", grantor=carmaker,
                                grantee_key=workshop.key, market="DE", purpose=RMI_PURPOSE,
                                valid_until=now_us() + _YEAR_US)
