"""Storing a consortium-format import: refused whole when invalid, else a new passport or a new version,
with every normalisation stored and covered by the import's ledger entry (never silent)."""

from __future__ import annotations

from typing import Any

from roadpass.passport.importing import ImportRefused, import_consortium
from roadpass.passport.schemas import SchemaIssue
from roadpass.passport.service import RULE_ISSUE, ImportOutcome
from roadpass.store import passports as repo
from roadpass.store.uow import UnitOfWork

__all__ = ["store_import"]


def store_import(
    uow: UnitOfWork, document: bytes | str | Any, *, actor: str, passport_id: str | None = None
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
    with uow.write() as conn:
        op_id = repo.new_op_id()
        head = repo.head_by_passport_id(conn, target)
        if head is None:
            passport = result.passport()
            repo.insert_passports(conn, [repo.NewPassport(
                passport_id=passport.passport_id, battery_id=passport.battery_id,
                category=passport.category.value, status=passport.status.value, sections=result.sections,
                reason="import")], actor=actor, op_id=op_id)
            head = repo.head_by_passport_id(conn, target)
            assert head is not None
        else:
            stored = repo.load_passports(conn, [head.pk])[0]
            if stored.current.ceased_at is not None:
                ceased = SchemaIssue(None, "$", f"passport {target} has ceased (Art. 77(8))", "ceased")
                raise ImportRefused([ceased])
            sections: dict[str, Any] = {**stored.current.sections}
            sections.update(result.sections.items())
            repo.append_version(conn, head.pk, status=str(gpi.get("batteryStatus", stored.current.status)),
                                sections=sections, reason="import", actor=actor, op_id=op_id,
                                successor_id=stored.current.successor_id)
        version_pk = repo.head_by_passport_id(conn, target)
        assert version_pk is not None
        repo.insert_normalisations(conn, version_pk.version_id, changes, op_id=op_id)
        entry = repo.ledgered(conn, actor=actor, action="passport.import", rule=RULE_ISSUE, op_id=op_id,
                              tables=["passport", "passport_version", "passport_normalisation"])
    return ImportOutcome(target, result.kind, tuple(result.sections), result.changes, entry.seq)
