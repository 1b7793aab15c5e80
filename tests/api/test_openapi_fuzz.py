"""Property-based fuzzing of the whole API from its own OpenAPI document (schemathesis), bounded.

Every operation gets a few generated requests, sent as a signed-in carmaker; no answer may be a 5xx and
every answer must match the response schema the document declares for its status.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import not_a_server_error, response_schema_conformance

from access_helpers import api_headers
from roadpass.api.app import create_app
from roadpass.bootstrap import Roadpass, bootstrap
from roadpass.settings import Settings

MAX_EXAMPLES = 6  # per operation: enough to reach every branch of parameter validation, quick enough for CI

# Failures found by this test in code another feature owns, reported to its owner; listed here (with the
# reason) so that they stay visible in the test output without failing everyone's build. Remove an entry
# once fixed: a listed operation that passes is reported too.
KNOWN: dict[str, str] = {}


@pytest.fixture(scope="module")
def fuzz_app(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path) -> Iterator[Roadpass]:
    """A small demo fleet on SQLite (module scope: the examples share it)."""
    import shutil

    from roadpass.demo.fleet import FleetSpec, fleet_parties, generate_fleet
    from roadpass.store.parties import upsert_party

    target = tmp_path_factory.mktemp("fuzz") / "roadpass.sqlite3"
    shutil.copy(sqlite_template, target)
    app = bootstrap(Settings(database_url=f"sqlite:///{target}", environment="test"))
    with app.uow.write() as conn:
        for p in fleet_parties():
            upsert_party(conn, actor="test", key=p.key, name=p.name, role=p.role, country=p.country,
                         gcp=p.company_prefix)
    for document in generate_fleet(FleetSpec(vehicles=10)):
        app.trace.capture(document, actor="demo-generator")
    yield app
    app.close()


@pytest.fixture(scope="module")
def fuzz_headers(fuzz_app: Roadpass) -> dict[str, str]:
    """The carmaker's API key."""
    return api_headers(fuzz_app, "manufacturer", key="lanxing_fuzz", gcp="6975001")


def test_no_server_errors_and_responses_match_the_schema(fuzz_app: Roadpass, fuzz_headers: dict[str, str]) -> None:
    # The operations are driven one by one from here (not schemathesis' pytest plugin, whose lazy
    # fixture loading needs pytest internals that pytest 9 removed); each is a bounded Hypothesis run.
    from hypothesis import given

    schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(roadpass=fuzz_app))
    failures: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1

        @given(case=operation.as_strategy())
        @settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True, database=None,
                  phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
        def check(case: Any) -> None:
            case.call_and_validate(headers=dict(fuzz_headers),
                                   checks=[not_a_server_error, response_schema_conformance])

        name = f"{operation.method.upper()} {operation.path}"
        try:
            check()
        except Exception as exc:  # collect every operation's failure, then report them together
            if name in KNOWN:
                warnings.warn(f"known API defect, still present: {name}: {KNOWN[name]}", stacklevel=1)
                continue
            failures.append(f"{name}: {str(exc)[:600]}")
        else:
            if name in KNOWN:
                warnings.warn(f"{name} passes now: remove it from KNOWN", stacklevel=1)
    assert operations > 30
    assert not failures, "\n\n".join(failures)
