"""``roadpass parties|users|keys|shares …``: the node's local administration (the shell user is trusted).

Every write is ledgered with the actor ``cli:<shell user>``.
"""

from __future__ import annotations

import datetime as dt
import getpass
from typing import Annotated, Any

import typer
from rich.table import Table

from roadpass.access.admin import AdminError
from roadpass.access.model import Party, PartyRole, ShareKind
from roadpass.bootstrap import Roadpass
from roadpass.cli.common import console, fail, open_app, print_json
from roadpass.trace.timeutil import iso_utc

__all__ = ["register"]

parties_app = typer.Typer(help="Parties (organisations): list, add, authority mandates.", no_args_is_help=True)
users_app = typer.Typer(help="People who sign in: list, add, passwords, disable.", no_args_is_help=True)
keys_app = typer.Typer(help="API keys of machine clients: create (shown once), list, revoke.", no_args_is_help=True)
shares_app = typer.Typer(help="Shares (explicit grants between parties): list, grant, revoke.", no_args_is_help=True)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]


def _actor() -> str:
    return f"cli:{getpass.getuser()}"


def _out(rows: list[dict[str, Any]], as_json: bool, title: str) -> None:
    if as_json:
        print_json(rows)
        return
    table = Table(title=title)
    for column in rows[0] if rows else ["(none)"]:
        table.add_column(column)
    for row in rows:
        table.add_row(*["" if v is None else str(v) for v in row.values()])
    console.print(table)


def _run(as_json: bool, fn: Any) -> Any:
    try:
        return fn()
    except AdminError as exc:
        fail(str(exc), as_json=as_json, field=exc.field)


def _party(rp: Roadpass, key: str, as_json: bool, field: str = "party") -> Party:
    found = rp.access.party(key)
    if found is None:
        fail(f"no party {key!r}", as_json=as_json, field=field)
    return found


@parties_app.command("list")
def parties_list(role: Annotated[str | None, typer.Option(help="Only this role.")] = None, as_json: JsonOpt = False
                 ) -> None:
    """Every party with its role, country, region and GS1 company prefix."""
    rows = [{"key": p.key, "name": p.name, "role": p.role, "country": p.country, "region": p.region,
             "gcp": p.gcp} for p in open_app().access.parties(role=role)]
    _out(rows, as_json, "Parties")


@parties_app.command("add")
def parties_add(
    key: str, name: Annotated[str, typer.Option(help="Legal name.")],
    role: Annotated[str, typer.Option(help=f"One of {', '.join(r.value for r in PartyRole)}.")],
    country: Annotated[str, typer.Option(help="ISO 3166-1 alpha-2.")],
    region: Annotated[str | None, typer.Option(help="Regional node holding its data.")] = None,
    gcp: Annotated[str | None, typer.Option(help="GS1 Company Prefix (what it owns).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Create or update a party."""
    rp = open_app()
    party = _run(as_json, lambda: rp.admin.create_party(actor=_actor(), key=key, name=name, role=role,
                                                         country=country, region=region, gcp=gcp))
    _out([{"key": party.key, "name": party.name, "role": party.role, "country": party.country, "gcp": party.gcp}],
         as_json, "Party")


@parties_app.command("mandate")
def parties_mandate(key: str, markets: list[str], as_json: JsonOpt = False) -> None:
    """Add markets (ISO 3166-1 alpha-2) an authority surveys: it sees vehicles sold there."""
    rp = open_app()
    result = _run(as_json, lambda: rp.admin.set_mandate(actor=_actor(), party_key=key, markets=markets))
    _out([{"party": key, "markets": ", ".join(result)}], as_json, "Mandate")


@users_app.command("list")
def users_list(party: Annotated[str | None, typer.Option(help="Only this party's users.")] = None,
               as_json: JsonOpt = False) -> None:
    """Users and their parties (never passwords)."""
    rp = open_app()
    party_id = _party(rp, party, as_json).id if party else None
    rows = [{"email": u.email, "name": u.name, "party": p.key, "role": p.role, "admin": u.party_admin,
             "disabled": u.disabled} for u, p in rp.admin.users(party_id=party_id)]
    _out(rows, as_json, "Users")


@users_app.command("add")
def users_add(
    email: str, party: Annotated[str, typer.Option(help="The party the user belongs to.")],
    password: Annotated[str, typer.Option(prompt=True, hide_input=True, confirmation_prompt=True,
                                          help="At least 10 characters (prompted when left out).")],
    name: Annotated[str, typer.Option(help="Display name.")] = "",
    party_admin: Annotated[bool, typer.Option("--admin", help="May manage the party's users.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Create a user; the password is stored only as an argon2id hash."""
    rp = open_app()
    user = _run(as_json, lambda: rp.admin.create_user(actor=_actor(), party_key=party, email=email, name=name,
                                                       password=password, party_admin=party_admin))
    _out([{"email": user.email, "party": party, "admin": user.party_admin}], as_json, "User")


@users_app.command("passwd")
def users_passwd(
    email: str,
    password: Annotated[str, typer.Option(prompt=True, hide_input=True, confirmation_prompt=True,
                                          help="The new password (prompted when left out).")],
    as_json: JsonOpt = False,
) -> None:
    """Set a user's password."""
    rp = open_app()
    _run(as_json, lambda: rp.admin.set_password(actor=_actor(), email=email, password=password))
    _out([{"email": email, "password": "changed"}], as_json, "User")


@users_app.command("disable")
def users_disable(email: str, enable: Annotated[bool, typer.Option("--enable", help="Enable again.")] = False,
                  as_json: JsonOpt = False) -> None:
    """Disable a user (sessions and keys stop at once), or ``--enable`` it again."""
    rp = open_app()
    _run(as_json, lambda: rp.admin.disable_user(actor=_actor(), email=email, disabled=not enable))
    _out([{"email": email, "disabled": not enable}], as_json, "User")


@keys_app.command("create")
def keys_create(
    party: Annotated[str, typer.Option(help="The party the machine client acts for.")],
    name: Annotated[str, typer.Option(help="What the key is for.")],
    days: Annotated[int | None, typer.Option(help="Lifetime (default ROADPASS_API_KEY_DAYS).")] = None,
    webhook: Annotated[bool, typer.Option(
        "--webhook", help="For another EPCIS repository's subscription deliveries into /capture: it signs "
                          "them with the key (signatureToken) instead of sending it.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Create an API key; it is printed this once (only its SHA-256 is stored, and for a webhook key the key)."""
    rp = open_app()
    found = _party(rp, party, as_json)
    made, info = _run(as_json, lambda: rp.admin.create_api_key(actor=_actor(), party_id=found.id, name=name,
                                                                days=days, webhook=webhook))
    if as_json:
        print_json({"key": made.token, "keyId": info.key_id, "party": party, "expiresAt": iso_utc(info.expires_at),
                    "webhook": webhook})
        return
    console.print(f"API key for [bold]{party}[/] (shown once, keep it safe):\n{made.token}")
    use = ("subscribe with dest <this node>/capture and this key as signatureToken" if webhook
           else "Authorization: Bearer <key>")
    console.print(f"key id {info.key_id}, expires {iso_utc(info.expires_at)[:10]}; use: {use}")


@keys_app.command("list")
def keys_list(party: Annotated[str | None, typer.Option(help="Only this party's keys.")] = None,
              as_json: JsonOpt = False) -> None:
    """Keys with their expiry and revocation (never secrets)."""
    rows = [{"keyId": k.key_id, "party": owner or None, "name": k.name, "expires": iso_utc(k.expires_at),
             "revoked": iso_utc(k.revoked_at) if k.revoked_at else None}
            for k, owner in open_app().admin.api_keys() if party is None or owner == party]
    _out(rows, as_json, "API keys")


@keys_app.command("revoke")
def keys_revoke(key_id: str, as_json: JsonOpt = False) -> None:
    """Revoke a key at once."""
    info = open_app().admin.revoke_api_key(actor=_actor(), key_id=key_id)
    if info is None:
        fail(f"no key {key_id!r}", as_json=as_json, field="key_id")
    _out([{"keyId": key_id, "revoked": iso_utc(info.revoked_at or 0)}], as_json, "API key")


@shares_app.command("list")
def shares_list(party: Annotated[str | None, typer.Option(help="Shares granted or held by this party.")] = None,
                as_json: JsonOpt = False) -> None:
    """Shares: who lets whom see what, why and until when."""
    rp = open_app()
    shares = rp.admin.shares(party_id=_party(rp, party, as_json).id if party else None)
    rows = [{"id": s.id, "grantor": s.grantor, "grantee": s.grantee, "kind": s.kind.value, "target": s.target,
             "purpose": s.purpose, "until": iso_utc(s.valid_until)[:10], "revoked": bool(s.revoked_at)}
            for s in shares]
    _out(rows, as_json, "Shares")


@shares_app.command("grant")
def shares_grant(
    grantor: Annotated[str, typer.Option("--from", help="The owning party.")],
    grantee: Annotated[str, typer.Option("--to", help="The party that may see it.")],
    kind: Annotated[ShareKind, typer.Option(help="unit, lot or product.")],
    target: Annotated[str, typer.Option(help="VIN, EPC URN, Digital Link URI, lot or GTIN.")],
    purpose: Annotated[str, typer.Option(help="What the data may be used for.")],
    until: Annotated[str, typer.Option(help="Last day (YYYY-MM-DD).")],
    as_json: JsonOpt = False,
) -> None:
    """Share units, a lot or a product (only what the grantor owns)."""
    try:
        day = dt.date.fromisoformat(until)
    except ValueError:
        fail("until: expected YYYY-MM-DD", as_json=as_json, field="until")
    valid_until = int(dt.datetime.combine(day, dt.time(), dt.UTC).timestamp() * 1_000_000)
    rp = open_app()
    share = _run(as_json, lambda: rp.admin.share_owned(actor=_actor(), grantor_key=grantor, grantee_key=grantee,
                                                        kind=kind, target=target, purpose=purpose,
                                                        valid_until=valid_until))
    _out([{"id": share.id, "grantor": grantor, "grantee": grantee, "target": share.target}], as_json, "Share")


@shares_app.command("revoke")
def shares_revoke(share_id: int, as_json: JsonOpt = False) -> None:
    """End a share at once."""
    open_app().admin.revoke_share(actor=_actor(), share_id=share_id)
    _out([{"id": share_id, "revoked": True}], as_json, "Share")


def register(app: typer.Typer) -> None:
    """Add the command groups to the ``roadpass`` CLI."""
    app.add_typer(parties_app, name="parties")
    app.add_typer(users_app, name="users")
    app.add_typer(keys_app, name="keys")
    app.add_typer(shares_app, name="shares")
