"""The account page's forms (keys, shares) as a signed-in user posts them, with the session's CSRF token."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import unquote

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from roadpass.api.app import create_app
from roadpass.bootstrap import Roadpass

PASSWORD = "correct horse battery"
GTIN = "04000001000012"  # a product under the signed-in party's company prefix


@pytest.fixture
def client(sqlite_app: Roadpass) -> Iterator[TestClient]:
    app = sqlite_app
    app.admin.create_party(actor="test", key="acme", name="ACME", role="manufacturer", country="DE", gcp="4000001")
    app.admin.create_party(actor="test", key="rival", name="Rival", role="manufacturer", country="DE", gcp="5000001")
    app.admin.create_party(actor="test", key="fix", name="Fix", role="repairer", country="DE")
    app.admin.create_user(actor="test", party_key="acme", email="ana@acme.example", name="Ana", password=PASSWORD,
                          party_admin=True)
    with TestClient(create_app(roadpass=app), follow_redirects=False) as test_client:
        csrf = test_client.post("/auth/session", json={"email": "ana@acme.example", "password": PASSWORD}
                                ).json()["csrfToken"]
        test_client.headers["X-CSRF-Token"] = csrf
        yield test_client


def _denials(app: Roadpass) -> list[str]:
    with app.uow.read() as conn:
        return [str(r[0]) for r in conn.execute(text("SELECT path FROM access_denial ORDER BY id"))]


def _message(response: object) -> str:
    location = getattr(response, "headers", {}).get("location", "")
    return unquote(location.split("msg=", 1)[-1])


def test_keys_are_made_shown_once_and_revoked_from_the_account_page(client: TestClient, sqlite_app: Roadpass
                                                                    ) -> None:
    made = client.post("/ui/account/keys", data={"name": "erp", "days": "30"})
    assert made.status_code == 201
    token = made.text.split('id="new-key">', 1)[1].split("<", 1)[0]
    assert token.startswith("rpk_")
    key_id = token.split("_")[1]
    assert client.post("/ui/account/keys", data={"name": " ", "days": "30"}).status_code == 422
    rival = sqlite_app.access.party("rival")
    assert rival is not None
    _, theirs = sqlite_app.admin.create_api_key(actor="test", party_id=rival.id, name="theirs", days=1)
    refused = client.post(f"/ui/account/keys/{theirs.key_id}/revoke")
    assert refused.status_code == 303 and _message(refused) == "no such key of yours"
    assert _denials(sqlite_app) == ["/ui/account/keys/{key_id}/revoke"]
    assert _message(client.post("/ui/account/keys/000000000000/revoke")) == "no such key of yours"
    assert len(_denials(sqlite_app)) == 1  # an unknown key is nobody's: nothing to ledger
    done = client.post(f"/ui/account/keys/{key_id}/revoke")
    assert done.status_code == 303 and _message(done) == f"key {key_id} revoked"
    assert client.get("/auth/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_shares_are_granted_and_ended_from_the_account_page(client: TestClient, sqlite_app: Roadpass) -> None:
    form = {"grantee": "fix", "kind": "product", "target": GTIN, "purpose": "repair", "until": "2099-01-01"}
    granted = client.post("/ui/account/shares", data=form)
    assert granted.status_code == 303 and _message(granted) == "shared with fix"
    page = client.get("/ui/account")
    assert page.status_code == 200 and f"https://id.gs1.org/01/{GTIN}/" in page.text
    not_ours = client.post("/ui/account/shares", data={**form, "target": "05000001000011"})
    assert not_ours.status_code == 422 and "target: a party may share only keys" in not_ours.text
    assert _denials(sqlite_app) == ["/ui/account/shares"]
    assert client.post("/ui/account/shares", data={**form, "kind": "fleet"}).status_code == 422
    assert client.post("/ui/account/shares", data={**form, "until": "someday"}).status_code == 422
    share_id = sqlite_app.admin.shares()[0].id
    assert _message(client.post("/ui/account/shares/999/revoke")) == "no such share of yours"
    ended = client.post(f"/ui/account/shares/{share_id}/revoke")
    assert ended.status_code == 303 and _message(ended) == "share ended"
    assert sqlite_app.admin.shares()[0].revoked_at is not None
