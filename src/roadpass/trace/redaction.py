"""Need to know inside an event: the part of a visible event that a restricted caller may read.

EPCIS 2.0 §8.2.2 lets a repository use the requester's authenticated identity to decide what a query
answers, and to answer with less than the whole event: fewer events, and events with some of their EPCs
or fields withheld (the same latitude §8.2.7 gives the results of SimpleEventQuery). The access policy
(:mod:`roadpass.access.policy`) decides *which* events a caller sees; this module decides *how much* of one.

The rule, for a caller with a :class:`~roadpass.trace.query.Visibility` (a canonical key is "seen" when
:meth:`Visibility.sees_unit` holds for it, without a market):

- ``None`` visibility (an unrestricted caller) changes nothing, and neither does a market mandate: a
  market surveillance authority may demand all information on a product on its market (Reg. (EU)
  2019/1020 Art. 14(4)), and the policy gives markets to authorities only.
- The event is shown whole when the caller captured it (``actor``: it wrote every word of it), when it
  sees its ``parentID`` or one of a TransformationEvent's outputs (the owner of a container or of a product
  knows what went into it: the as-built tree already shows it) or when it happened at the caller's own
  site (``bizLocation`` or ``readPoint``: the caller handled the objects itself).
- Otherwise each identifier list keeps only the identifiers the caller sees, in their order: ``epcList``,
  ``childEPCs``, ``inputEPCList``; the quantity lists (``quantityList``, ``childQuantityList``,
  ``inputQuantityList``) keep the elements whose ``epcClass`` the caller sees. An identifier that is not a
  valid EPC or Digital Link URI is withheld (nothing shows it is the caller's). A list left empty is left
  out. The caller's own identifier always stays (it is why the event is visible), so the event still
  satisfies the GS1 JSON schema's non-empty lists.
- ``parentID`` and a TransformationEvent's outputs (``outputEPCList``, ``outputQuantityList``) stay: they
  are what the caller's part went into, the traceability it is entitled to (and the schema needs them).
- When anything was withheld, user extensions (namespaced keys such as ``ext:field``; the standard's own
  fields never carry a prefix) are dropped at the top level: they may describe the withheld objects.
  ``ilmd`` (EPCIS 2.0 §7.3.6: master data of the objects an ObjectEvent or TransformationEvent creates)
  stays while one object it describes (``epcList``, ``quantityList``, ``outputEPCList``,
  ``outputQuantityList``) stays, with its own namespaced keys, and is dropped otherwise.
- ``sourceList``, ``destinationList``, ``bizTransactionList``, ``sensorElementList``, ``certificationInfo``,
  ``persistentDisposition`` and the ``errorDeclaration`` stay: they describe the business step and its
  conditions, which the caller's own objects went through too, not the other objects.
- The ``eventID`` stays the stored event's id; when it is a hash ID (``ni:///sha-256;…``) it is the hash of
  the event as captured, not a recomputation over the redacted body, so a redacted event does not verify
  against its hash ID and is still matched by ``EQ_eventID``.

Genealogy answers follow the same rule. An as-built tree is only answered for a unit the caller sees, and
who sees a unit sees what it holds (as with ``parentID``), so the tree is not cut; a supplier does not
reach its unit's vehicle's tree at all. A where-used hit is a holder (the parent): who sees the holder
reads the hit whole; anyone else reads only the ``via`` keys it sees, and ``suppliers`` only when no
``via`` key was left out (a party name would tell which competitor's unit sits below the holder).
"""

from __future__ import annotations

from typing import Any

from roadpass.trace.genealogy import WhereUsedHit, WhereUsedResult
from roadpass.trace.identifiers import IdentifierError, canonical_id
from roadpass.trace.query import Visibility

__all__ = ["EPC_LISTS", "QUANTITY_LISTS", "redact_event", "redact_hit", "redact_where_used"]

#: The EPCIS 2.0 identifier lists (§7.3) filtered per identifier (outputs are a transformation's "parent").
EPC_LISTS = ("epcList", "childEPCs", "inputEPCList")
#: The quantity lists (§7.3.3.3), filtered by each element's ``epcClass``.
QUANTITY_LISTS = ("quantityList", "childQuantityList", "inputQuantityList")
# The lists whose objects an event's ilmd describes (EPCIS 2.0 §7.3.6).
_ILMD_OBJECTS = ("epcList", "quantityList", "outputEPCList", "outputQuantityList")


def _key(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    try:
        return canonical_id(value)
    except IdentifierError:
        return None


def _sees(vis: Visibility, value: object) -> bool:
    key = _key(value)
    return key is not None and vis.sees_unit(key)


def _place(event: dict[str, Any], name: str) -> str | None:
    where = event.get(name)
    return _key(where.get("id")) if isinstance(where, dict) else None


def _whole(event: dict[str, Any], vis: Visibility, actor: str | None) -> bool:
    if vis.markets or (actor is not None and vis.actor_prefixes and actor.startswith(vis.actor_prefixes)):
        return True
    if "parentID" in event and _sees(vis, event["parentID"]):
        return True
    if any(_sees(vis, v) for v in event.get("outputEPCList") or ()) or any(
        isinstance(q, dict) and _sees(vis, q.get("epcClass")) for q in event.get("outputQuantityList") or ()
    ):
        return True
    return vis.sees_location(_place(event, "bizLocation")) or vis.sees_location(_place(event, "readPoint"))


def redact_event(event: dict[str, Any], visibility: Visibility | None, *, actor: str | None = None) -> dict[str, Any]:
    """What of the rendered EPCIS ``event`` a caller with ``visibility`` may see (see the module's rule);
    ``actor`` is who captured it, when known (a caller reads its own captures whole).

    Returns ``event`` itself when nothing is withheld, else a new dict; ``event`` is never changed. One pass
    over each identifier list."""
    if visibility is None or _whole(event, visibility, actor):
        return event
    out: dict[str, Any] = {}
    withheld = False
    for name, value in event.items():
        if name in EPC_LISTS and isinstance(value, list):
            kept: list[Any] = [v for v in value if _sees(visibility, v)]
        elif name in QUANTITY_LISTS and isinstance(value, list):
            kept = [q for q in value if isinstance(q, dict) and _sees(visibility, q.get("epcClass"))]
        else:
            out[name] = value
            continue
        withheld = withheld or len(kept) != len(value)
        if kept or not value:
            out[name] = kept
    if not withheld:
        return event
    for name in [n for n in out if ":" in n and not n.startswith("@")]:
        del out[name]  # user extensions (EPCIS 2.0 §7.1.2) may describe what was withheld
    if "ilmd" in out and not any(out.get(name) for name in _ILMD_OBJECTS):
        del out["ilmd"]
    return out


def redact_hit(hit: WhereUsedHit, visibility: Visibility | None) -> WhereUsedHit:
    """A where-used hit as ``visibility`` may read it: the ``via`` keys (units directly below the holder) it
    does not see are left out, and so is ``suppliers`` (the parties that issued them) unless every ``via`` key
    stays. The holder of the hit decides as ``parentID`` does in an event: who sees the holder sees it whole."""
    if visibility is None or visibility.sees_unit(hit.key, hit.market if hit.vin else None):
        return hit
    via = tuple(key for key in hit.via if visibility.sees_unit(key))
    if len(via) == len(hit.via):
        return hit
    return hit._replace(via=via, suppliers=())


def redact_where_used(result: WhereUsedResult, visibility: Visibility | None) -> WhereUsedResult:
    """A where-used answer with every hit passed through :func:`redact_hit`. The counts and roll-ups stay
    as computed: vehicles per market and per supplier party are the recall's scope and whom to coordinate
    with, not identifiers."""
    if visibility is None:
        return result
    return WhereUsedResult(
        count=len(result), vins=result.vins, vehicles_now=result.vehicles_now, by_market=result.by_market,
        by_supplier=result.by_supplier,
        build=lambda start, stop: [redact_hit(h, visibility) for h in result[start:stop]],
        keys=lambda: [h.key for h in result],
    )
