"""The hash chain on its own: every kind of tampering is caught and named."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given
from hypothesis import strategies as st

from roadpass.ledger import (
    GENESIS_HASH,
    LedgerEntry,
    Subject,
    canonical_rows_hash,
    compute_entry_hash,
    verify_chain,
)


def _chain(contents: list[str]) -> list[LedgerEntry]:
    entries: list[LedgerEntry] = []
    prev = GENESIS_HASH
    for seq, content in enumerate(contents, start=1):
        subjects = (Subject("party", "id", seq),)
        content_hash = canonical_rows_hash([[seq, content]])
        entry_hash = compute_entry_hash(
            seq=seq, recorded_at=1000 + seq, actor="a", action="x", rule="r", subjects=subjects,
            content_hash=content_hash, prev_hash=prev,
        )
        entries.append(LedgerEntry(seq, 1000 + seq, "a", "x", "r", subjects, content_hash, prev, entry_hash))
        prev = entry_hash
    return entries


def _stored(contents: list[str]):  # type: ignore[no-untyped-def]
    return lambda entry: canonical_rows_hash([[entry.seq, contents[entry.seq - 1]]])


def test_intact_chain_verifies() -> None:
    contents = ["a", "b", "c"]
    report = verify_chain(_chain(contents), _stored(contents))
    assert report.ok
    assert report.entries == 3


@given(st.lists(st.text(max_size=8), min_size=1, max_size=12), st.data())
def test_any_content_edit_is_named(contents: list[str], data: st.DataObject) -> None:
    chain = _chain(contents)
    index = data.draw(st.integers(0, len(contents) - 1))
    edited = list(contents)
    edited[index] = edited[index] + "!"
    report = verify_chain(chain, _stored(edited))
    assert not report.ok
    assert report.first_mismatch is not None
    assert report.first_mismatch.seq == index + 1
    assert "content changed" in report.first_mismatch.reason


@given(st.lists(st.text(max_size=8), min_size=2, max_size=12), st.data())
def test_edited_or_removed_entries_are_named(contents: list[str], data: st.DataObject) -> None:
    chain = _chain(contents)
    index = data.draw(st.integers(0, len(contents) - 1))
    forged = list(chain)
    forged[index] = replace(chain[index], actor="mallory")
    report = verify_chain(forged, _stored(contents))
    assert report.first_mismatch is not None and report.first_mismatch.seq == index + 1
    if index < len(contents) - 1:
        removed = chain[:index] + chain[index + 1 :]
        report = verify_chain(removed, _stored(contents))
        assert not report.ok
