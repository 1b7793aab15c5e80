"""Helpers for tests that call the API as a party: make a party and an API key, return the headers."""

from __future__ import annotations

import itertools

from roadpass.bootstrap import Roadpass

_counter = itertools.count(1)

#: GS1 company prefix of the EPCIS conformance examples (``urn:epc:id:sgtin:0614141…``).
EXAMPLES_GCP = "0614141"


def api_headers(
    app: Roadpass, role: str = "manufacturer", *, key: str | None = None, gcp: str | None = None,
    country: str = "DE", markets: list[str] | None = None,
) -> dict[str, str]:
    """Create (or reuse) party ``key`` with ``role`` and a fresh API key; the Authorization header for it."""
    party_key = key or f"test_{role}_{next(_counter)}"
    party = app.admin.create_party(actor="test", key=party_key, name=f"Test {role} {party_key}", role=role,
                                   country=country, gcp=gcp)
    if markets:
        app.admin.set_mandate(actor="test", party_key=party_key, markets=markets)
    made, _info = app.admin.create_api_key(actor="test", party_id=party.id, name="test client", days=1)
    return {"Authorization": f"Bearer {made.token}"}
