"""``roadpass resolve URI [--linkset]``: what the node answers when somebody scans this code."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import parse_qsl, urlsplit

import orjson
import typer

from roadpass.access.model import ANONYMOUS
from roadpass.access.policy import Op, decide
from roadpass.access.service import OPEN
from roadpass.cli.common import console, fail, open_app, print_json
from roadpass.resolver.links import Audience
from roadpass.resolver.scan import LINKSET_MEDIA, ScanError, accept_languages
from roadpass.resolver.service import NotResolved

__all__ = ["resolve_command"]


def resolve_command(
    uri: Annotated[str, typer.Argument(help="A GS1 Digital Link URI (https://host/01/…/21/…) or its path.")],
    linkset: Annotated[bool, typer.Option("--linkset", help="Show the linkset a machine gets (RFC 9264).")] = False,
    language: Annotated[str | None, typer.Option("--language", help="Accept-Language of the scan, e.g. de.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """What the node answers an anonymous scan of URI: the 307 and its Link header, or the linkset."""
    app = open_app()
    parts = urlsplit(uri)
    path = parts.path if parts.scheme else uri.split("?", 1)[0]
    root = f"{parts.scheme}://{parts.netloc}" if parts.scheme else app.settings.resolver_base or "http://localhost"
    link_type = dict(parse_qsl(parts.query)).get("linkType")
    principal = ANONYMOUS if app.settings.auth_enabled else OPEN
    audience = Audience(app.access.passport_role(principal),
                        frozenset(op.value for op in Op if decide(principal, op).allowed))
    try:
        answer = app.resolver.answer(path, audience, root, link_type=link_type,
                                     accept=LINKSET_MEDIA if linkset else None, languages=accept_languages(language))
    except ScanError as exc:
        fail(f"400 not a valid GS1 Digital Link URI: {exc}", as_json=as_json, status=400, part=exc.part)
    except NotResolved as exc:
        fail(f"404 {exc}", as_json=as_json, status=404)
    if as_json:
        body = orjson.loads(answer.body) if answer.body else None
        print_json({"status": answer.status, "location": answer.location, "link": answer.link, "linkset": body})
        return
    console.print(f"[bold]{answer.status}[/] {answer.location or answer.media_type}")
    for item in answer.link.split(", <"):
        console.print(f"  Link: {item if item.startswith('<') else '<' + item}", soft_wrap=True, markup=False)
    if answer.body:
        print_json(orjson.loads(answer.body))
