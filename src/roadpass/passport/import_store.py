"""Storing a consortium-format import: refused whole when invalid, else a new passport or a new version,
with every normalisation stored and covered by the import's ledger entry (never silent)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from roadpass.passport.importing import ImportRefused, Normalisation, import_consortium
from roadpass.passport.issuing import RULE_ISSUE
from roadpass.passport.jsondata import JsonObject
from roadpass.passport.ports import PassportRecords
from roadpass.passport.records import NewPassport, NewVersion, PassportHead, new_op_id
from roadpass.passport.schemas import SchemaIssue, SectionName
from roadpass.ports import Transactions

__all__ = ["ImportOutcome", "store_import"]


@dataclass(frozen=True, slots=True)
class ImportOutcome:
    """A stored import: the passport, what kind of document it was, the normalisations made."""

    passport_id: str
    kind: Literal["section", "passport"]
    sections: tuple[SectionName, ...]
    changes: tuple[Normalisation, ...]
    ledger_seq: int

    def to_json(self) -> JsonObject:
        """The outcome as the API and CLI report it: every normalisation with the rule that made it."""
        return {"passportId": self.passport_id, "kind": self.kind, "sections": list(self.sections),
                "normalisations": [{"section": c.section, "path": c.path, "old": c.old, "new": c.new,
                                    "rule": c.rule} for c in self.changes],
                "ledgerSeq": self.ledger_seq}


def store_import(
    transactions: Transactions[PassportRecords], document: bytes | str | Any, *, actor: str,
    passport_id: str | None = None,
) -> ImportOutcome:
    """Import a consortium-format passport or section; refused whole (:class:`ImportRefused`, JSON path
    and reason) if invalid. A section goes to ``passport_id`` or, for GeneralProductInformation, to the
    passport it names; normalisations are stored and ledgered with the import."""
    result = import_consortium(document)
    gpi = result.sections.get("GeneralProductInformation", {})
    target = passport_id or (str(gpi["batteryPassportIdentifier"]) if "batteryPassportIdentifier" in gpi else None)
    if target is None:
        raise ImportRefused([SchemaIssue(None, "$", "a section other than GeneralProductInformation needs "
                                         "the passport it belongs to (--passport)", "required")])
    changes = [(c.section, c.path, c.old, c.new, c.rule) for c in result.changes]
    op_id = new_op_id()
    with transactions.write() as records:
        head = records.head(target)
        if head is None:
            passport = result.passport()
            records.insert_passports([NewPassport(
                passport_id=passport.passport_id, battery_id=passport.battery_id,
                category=passport.category.value, status=passport.status.value, sections=result.sections,
                reason="import")], actor=actor, op_id=op_id)
        else:
            stored = records.load([head.pk])[0]
            if stored.current.ceased_at is not None:
                ceased = SchemaIssue(None, "$", f"passport {target} has ceased (Art. 77(8))", "ceased")
                raise ImportRefused([ceased])
            sections: dict[str, Any] = {**stored.current.sections}
            sections.update(result.sections.items())
            version = NewVersion(status=str(gpi.get("batteryStatus", stored.current.status)), sections=sections,
                                 reason="import", successor_id=stored.current.successor_id)
            records.append_version(head.pk, version, actor=actor, op_id=op_id)
        latest: PassportHead | None = records.head(target)
        assert latest is not None  # written in this transaction
        records.insert_normalisations(latest.version_id, changes, op_id=op_id)
        entry = records.ledgered(actor=actor, action="passport.import", rule=RULE_ISSUE, op_id=op_id,
                                 tables=["passport", "passport_version", "passport_normalisation"])
    return ImportOutcome(target, result.kind, tuple(result.sections), result.changes, entry.seq)
