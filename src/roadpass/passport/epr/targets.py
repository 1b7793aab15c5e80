"""The Regulation's targets as data (``targets.yaml``), each with its article or Annex."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import cache
from importlib import resources
from typing import Literal

import yaml

__all__ = ["Target", "TargetKind", "load_targets", "targets_of"]

TargetKind = Literal["collection", "recycling_efficiency", "material_recovery", "recycled_content"]


@dataclass(frozen=True, slots=True)
class Target:
    """One target: what it measures, the minimum percentage, its deadline and where the Regulation says so."""

    id: str
    kind: TargetKind
    percent: float | None
    by: date | None
    cite: str
    applies_to: tuple[str, ...] = ()
    material: str | None = None

    @property
    def citation(self) -> str:
        """The full citation, e.g. ``Reg. (EU) 2023/1542 Art. 71(2); Annex XII Part C (1)``."""
        return f"Reg. (EU) 2023/1542 {self.cite}"


@cache
def load_targets() -> tuple[Target, ...]:
    """Every target of ``targets.yaml``; raises :class:`ValueError` naming a malformed entry."""
    text = resources.files("roadpass.passport.epr").joinpath("targets.yaml").read_text(encoding="utf-8")
    out: list[Target] = []
    for i, entry in enumerate(yaml.safe_load(text)["targets"]):
        if entry.get("kind") not in ("collection", "recycling_efficiency", "material_recovery", "recycled_content"):
            raise ValueError(f"targets.yaml: targets[{i}].kind: unknown kind {entry.get('kind')!r}")
        if not entry.get("cite"):
            raise ValueError(f"targets.yaml: targets[{i}].cite: every target cites the Regulation")
        by = entry.get("by")
        out.append(
            Target(
                id=str(entry["id"]),
                kind=entry["kind"],
                percent=float(entry["percent"]) if entry.get("percent") is not None else None,
                by=by if isinstance(by, date) else None,
                cite=str(entry["cite"]),
                applies_to=tuple(str(a) for a in entry.get("applies_to") or ()),
                material=entry.get("material"),
            )
        )
    return tuple(out)


def targets_of(kind: TargetKind, *, applies_to: str | None = None, material: str | None = None) -> list[Target]:
    """The targets of one kind, optionally for a category/chemistry or a material, earliest first."""
    found = [
        t for t in load_targets()
        if t.kind == kind and (applies_to is None or applies_to in t.applies_to)
        and (material is None or t.material == material)
    ]
    return sorted(found, key=lambda t: (t.by or date.max, t.id))
