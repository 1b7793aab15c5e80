"""Which entries are archived (roadpass.ledger.archive) and how the chain walk treats them: DB-free."""

from __future__ import annotations

from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from roadpass.ledger.archive import DETACH_ACTION, Archive, detached_partitions, partition_month
from roadpass.ledger.chain import GENESIS_HASH, LedgerEntry, Subject, compute_entry_hash, verify_chain
from roadpass.store.partitions import SCHEMA, partition_name

FEBRUARY = "event_partitions.epcis_event_y2024m02"


def _chain(*drafts: tuple[str, str, tuple[Subject, ...]]) -> list[LedgerEntry]:
    out: list[LedgerEntry] = []
    prev = GENESIS_HASH
    for seq, (action, rule, subjects) in enumerate(drafts, 1):
        own = compute_entry_hash(seq=seq, recorded_at=seq, actor="plant", action=action, rule=rule,
                                 subjects=subjects, content_hash=f"{seq:064x}", prev_hash=prev)
        out.append(LedgerEntry(seq, seq, "plant", action, rule, subjects, f"{seq:064x}", prev, own))
        prev = own
    return out


def _capture(job: int) -> tuple[str, str, tuple[Subject, ...]]:
    return "epcis.capture", "EPCIS 2.0 capture", (
        Subject("capture_job", "id", job), Subject("epcis_event", "job_id", job))


def _detach(name: str, *jobs: int) -> tuple[str, str, tuple[Subject, ...]]:
    return (DETACH_ACTION, f"{name}: ALTER TABLE epcis_event DETACH PARTITION (PostgreSQL manual 5.11.2.2)",
            tuple(Subject("capture_job", "id", job) for job in jobs))


def test_detach_entries_name_their_partition_and_its_captures() -> None:
    entries = _chain(_capture(1), _detach(FEBRUARY, 1), _detach(FEBRUARY, 4),
                     _detach("event_partitions.epcis_event_y2024m03"), ("other", f"{FEBRUARY}: x", ()))
    assert detached_partitions(entries) == {FEBRUARY: frozenset({1, 4}),
                                            "event_partitions.epcis_event_y2024m03": frozenset()}


def test_only_a_month_partition_name_is_accepted() -> None:
    for name in ("epcis_event_y2024m02", "event_partitions.epcis_event_default",
                 "event_partitions.epcis_event_y2024m13", "event_partitions.epcis_event_y2024m02; DROP TABLE x"):
        assert partition_month(name) is None
        assert detached_partitions(_chain(_detach(name, 1))) == {}


def test_an_attached_month_archives_nothing_and_the_table_is_asked_only_when_the_ledger_names_no_capture() -> None:
    march = "event_partitions.epcis_event_y2024m03"
    asked: list[str] = []

    def table_jobs(name: str) -> frozenset[int] | None:
        asked.append(name)
        return frozenset({9}) if name == march else None

    detached = {FEBRUARY: frozenset({1, 2}), march: frozenset(), "event_partitions.epcis_event_y2024m04": frozenset()}
    assert Archive.of(detached, attached=(), table_jobs=table_jobs).jobs == {1: FEBRUARY, 2: FEBRUARY, 9: march}
    assert asked == [march, "event_partitions.epcis_event_y2024m04"]  # April's table is gone: nothing known
    assert Archive.of(detached, attached={FEBRUARY, march}, table_jobs=table_jobs).jobs == {}


@given(st.dates(min_value=date(1970, 1, 1), max_value=date(9999, 12, 31)))
def test_every_partition_the_store_names_is_read_back(day: date) -> None:
    month = date(day.year, day.month, 1)
    assert partition_month(f"{SCHEMA}.{partition_name(month)}") == f"{month:%Y-%m}"


@given(st.text())
def test_an_accepted_name_is_safe_to_quote(name: str) -> None:
    if partition_month(name) is not None:
        assert set(name) <= set("abcdefghijklmnopqrstuvwxyz_.0123456789")


def test_archived_entries_keep_their_chain_but_skip_their_content() -> None:
    entries = _chain(_capture(1), _capture(2), _capture(3), _detach(FEBRUARY, 1, 3))
    archive = Archive.of(detached_partitions(entries), attached=(), table_jobs=lambda _name: None)

    def content(entry: LedgerEntry) -> str:  # job 2's rows and the detach entry are as recorded; 1 and 3 gone
        assert entry.seq not in (1, 3), "an archived entry's content is not recomputed"
        return entry.content_hash

    report = verify_chain(entries, content, archived=archive.partition_of)
    assert report.ok and report.archived == {FEBRUARY: 2} and report.entries == 4
    forged = entries[2]
    entries[2] = LedgerEntry(forged.seq, forged.recorded_at, "mallory", forged.action, forged.rule, forged.subjects,
                             forged.content_hash, forged.prev_hash, forged.entry_hash)
    report = verify_chain(entries, content, archived=archive.partition_of)
    assert not report.ok and report.first_mismatch is not None and report.first_mismatch.seq == 3
    assert "entry itself was edited" in report.first_mismatch.reason


def test_without_an_archive_every_content_is_checked() -> None:
    entries = _chain(_capture(1), _capture(2))
    report = verify_chain(entries, lambda e: "0" * 64 if e.seq == 2 else e.content_hash,
                          archived=Archive.of({}, attached=(), table_jobs=lambda _name: None).partition_of)
    assert not report.ok and report.first_mismatch is not None and report.first_mismatch.seq == 2
    assert report.archived == {}
