"""The products x markets matrix: every targeted market of every product assessed on one date."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from roadpass.compliance.assess import Assessor
from roadpass.compliance.evidence import Evidence
from roadpass.compliance.product import TechnicalFile, base_attributes
from roadpass.compliance.results import Assessment

__all__ = ["Matrix", "build_matrix", "held_with_components"]


def held_with_components(
    tf: TechnicalFile, evidence: Mapping[str, Iterable[Evidence]], subfiles: Mapping[str, TechnicalFile]
) -> list[Evidence]:
    """Evidence held for the product and for the technical files of its components (a component's radio
    certificate or battery declaration is part of the product's file), each item once."""
    out: dict[str, Evidence] = {}
    queue, seen = [tf], {tf.key}
    while queue:
        current = queue.pop()
        for ev in evidence.get(current.key, ()):
            out.setdefault(ev.key, ev)
        for comp in current.components:
            sub = subfiles.get(comp.technical_file or "")
            if sub is not None and sub.key not in seen:
                seen.add(sub.key)
                queue.append(sub)
    return list(out.values())


@dataclass(frozen=True, slots=True)
class Matrix:
    """Assessments by (product key, market); markets a product does not target have no cell."""

    on: dt.date
    products: tuple[tuple[str, str], ...]
    markets: tuple[str, ...]
    cells: Mapping[tuple[str, str], Assessment]

    def cell(self, product_key: str, market: str) -> Assessment | None:
        """The assessment of a product in a market, if targeted."""
        return self.cells.get((product_key, market))

    def to_json(self, *, results: bool = False) -> dict[str, Any]:
        """As JSON: per cell the status and counts (and, with ``results``, every requirement's result)."""
        rows = []
        for key, name in self.products:
            cells: dict[str, Any] = {}
            for market in self.markets:
                a = self.cells.get((key, market))
                if a is None:
                    continue
                cell: dict[str, Any] = {"status": a.status, "counts": a.counts, "pack_version": a.pack_version,
                                        "version": a.version}
                if results:
                    cell["results"] = [r.to_json() for r in a.applicable()]
                cells[market] = cell
            rows.append({"product": key, "name": name, "markets": cells})
        return {"on": self.on.isoformat(), "markets": list(self.markets), "products": rows}


def build_matrix(
    assessor: Assessor, products: Sequence[TechnicalFile], evidence: Mapping[str, Iterable[Evidence]], *,
    on: dt.date, markets: Sequence[str] | None = None, subfiles: Mapping[str, TechnicalFile] | None = None,
) -> Matrix:
    """Assess each product in each market it targets (restricted to ``markets`` when given)."""
    subfiles = subfiles if subfiles is not None else {p.key: p for p in products}
    wanted = set(markets) if markets else None
    cells: dict[tuple[str, str], Assessment] = {}
    used: set[str] = set()
    for tf in products:
        base = base_attributes(tf, subfiles)
        digest = tf.content_hash()
        held = held_with_components(tf, evidence, subfiles)
        for target in tf.markets:
            if wanted is not None and target.market not in wanted:
                continue
            cells[(tf.key, target.market)] = assessor.assess(
                tf, target.market, on=on, evidence=held, subfiles=subfiles, base=base, product_hash=digest
            )
            used.add(target.market)
    order = list(markets or sorted(used))
    return Matrix(on, tuple((p.key, p.name) for p in products), tuple(order), cells)
