"""The CBV 2.0 pre-hash string of one JSON event: the canonical property order walked with its leftovers.

Part of :mod:`roadpass.trace.epcis.event_hash`, which says what is hashed, how, and where roadpass departs
from the reference implementation; the rule numbers are those of the reference's README. Values are
normalised by ``_values``; the canonical order is the table in ``_order``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

from roadpass.trace.epcis._order import _pair_vocab, _Slot
from roadpass.trace.epcis._values import _canon, _fix_time
from roadpass.trace.epcis.vocabulary import default_namespaces

Context = Sequence[Any] | Mapping[str, Any] | str | None

# Members the reference skips at every level (JSON rendering of XML text and comments).
_IGNORED: Final = frozenset({"#text", "comment", "rdfs:comment"})
# Event-level fields that take no part in the hash (reference ``_gather_elements_not_in_order``), plus the
# JSON-LD @context a standalone event may carry (it is not event data).
_TOP_IGNORED: Final = frozenset({"recordTime", "eventID", "type", "errorDeclaration", "@context"})
_PAIR_LISTS: Final[Mapping[str, str]] = {
    "bizTransactionList": "bizTransaction",
    "sourceList": "source",
    "destinationList": "destination",
}
_UNSORTED: Final = frozenset(_PAIR_LISTS.values())


# --------------------------------------------------------------------------------------------------------
# The document context and the memos kept with it
# --------------------------------------------------------------------------------------------------------


# How an ordered object treats one of its member keys (computed once per key and document context).
_SKIP, _SLOT, _CANDIDATE, _LEFTOVER = 0, 1, 2, 3
# What an ordered field renders for a value: (its part of the ordered string or None, leftover string or None).
_Rendered = tuple["tuple[int, str] | None", "str | None"]
# (kind, expanded name, slot, anchors the object, memo of the renderings of a non-time, non-list slot)
_Plan = tuple[int, str, "_Slot | None", bool, "dict[str | tuple[str, str], _Rendered] | None"]
# Bounds of the memos of a _Ctx (each is cleared when full): EPC list items, and the other values.
_EPC_LIMIT: Final = 200_000
_MEMO_LIMIT: Final = 1 << 16
_KEY_LIMIT: Final = 4096  # member names: few distinct ones


class _Ctx:
    """Namespace prefixes of a document: ``ns`` as declared in its @context (keys and plain values,
    reference behaviour); ``vocab_ns`` adds the EPCIS context's own prefixes for CBV-typed fields. Also
    the memos of what renders the same under these prefixes (kept for the next documents that declare
    the same prefixes, see ``_context``)."""

    __slots__ = ("epcs", "keys", "leaves", "ns", "plans", "vocab_ns")

    def __init__(self, ns: dict[str, str]) -> None:
        self.ns = ns
        self.vocab_ns = {**default_namespaces(), **ns}
        self.plans: dict[int, dict[str, _Plan]] = {}
        # Memos of renderings that recur across events: EPC list items -> canonical value ("" when
        # blank), most of the hashing work; member names -> expanded names; (name, string value) of
        # generic elements (ILMD...) -> "name=…".
        self.epcs: dict[str, str] = {}
        self.keys: dict[str, str] = {}
        self.leaves: dict[tuple[str, str], str] = {}

    def epc(self, item: str) -> str:
        """The canonical value of one string of an EPC list (never ""), or "" when it is blank (memoised)."""
        text = self.value(item).strip()
        canonical = _canon(text) if text else ""
        if len(self.epcs) >= _EPC_LIMIT:
            self.epcs.clear()
        self.epcs[item] = canonical
        return canonical

    def leaf(self, name: str, value: str) -> str:
        """A generic element with a string value: ``name=<value>``, or ``name`` when blank (memoised)."""
        found = self.leaves.get((name, value))
        if found is None:
            text = self.value(value).strip()
            found = name + "=" + _canon(text) if text else name
            if len(self.leaves) >= _MEMO_LIMIT:
                self.leaves.clear()
            self.leaves[(name, value)] = found
        return found

    def key(self, name: str) -> str:
        # Rules 19-21: a namespaced key is rendered "{namespace IRI}localName".
        found = self.keys.get(name)
        if found is not None:
            return found
        prefix, sep, local = name.partition(":")
        iri = self.ns.get(prefix) if sep else None
        found = name if iri is None else "{" + iri + "}" + local
        if len(self.keys) >= _KEY_LIMIT:
            self.keys.clear()
        self.keys[name] = found
        return found

    def value(self, text: str) -> str:
        # Rule 15: a CURIE value is expanded with the document's prefixes. (Only the prefix is sliced
        # off: most values are EPC URNs whose "urn" prefix is not declared.)
        colon = text.find(":")
        if colon < 0 or not self.ns:
            return text
        iri = self.ns.get(text[:colon])
        return text if iri is None else iri + text[colon + 1 :]

    def plan(self, order: Mapping[str, _Slot], key: str, top: bool) -> _Plan:
        """How ``key`` is treated in an object with canonical ``order`` (memoised)."""
        plans = self.plans.get(id(order))
        if plans is None:
            plans = self.plans[id(order)] = {}
        found = plans.get(key)
        if found is not None:
            return found
        if len(plans) > 4096:
            plans.clear()
        name = self.key(key)
        anchors = "eventTime" in name or "action" in name
        slot = order.get(name)
        if key in _IGNORED or key.startswith("@xmlns"):
            kind = _SKIP
        elif "{" in name and "/}" in name:
            kind = _CANDIDATE
        elif slot is not None:
            kind = _SLOT
        elif top and name in _TOP_IGNORED:
            kind = _SKIP
        else:
            kind = _LEFTOVER
        # Values of an ordered field repeat across events (action, bizStep, readPoint...); times rarely do.
        memo: dict[str | tuple[str, str], _Rendered] | None = None
        if kind == _SLOT and slot is not None and not slot.time and slot.child is None:
            memo = {}
        plan: _Plan = (kind, name, slot, anchors, memo)
        plans[key] = plan
        return plan


def _namespaces(context: Context) -> dict[str, str]:
    ns: dict[str, str] = {}
    items: Sequence[Any] = context if isinstance(context, list | tuple) else [context]
    for item in items:
        if isinstance(item, Mapping):
            for prefix, iri in item.items():
                if isinstance(iri, str) and not str(prefix).startswith("@"):
                    ns[str(prefix)] = iri
    return ns


_ctx_memo: tuple[object, _Ctx] | None = None


def _context(context: Context) -> _Ctx:
    # Capture hashes every event of a document with the same @context object: remember the last one. The
    # next documents of a bulk capture declare the same prefixes in a new object: they keep the _Ctx, and
    # with it its memos (only one _Ctx is kept, which bounds their memory).
    global _ctx_memo
    memo = _ctx_memo
    if memo is not None and memo[0] is context:
        return memo[1]
    ns = _namespaces(context)
    ctx = memo[1] if memo is not None and memo[1].ns == ns else _Ctx(ns)
    _ctx_memo = (context, ctx)
    return ctx


def _text(value: Any, ctx: _Ctx) -> str:
    # The reference renders JSON scalars with Python's str(): true -> "True", 26.0 -> "26.0" (then rule 6).
    if isinstance(value, str):
        return ctx.value(value)
    return str(value)


def _vocab_value(value: Any, vocab: Mapping[str, str], ctx: _Ctx) -> str:
    # Rule 16: a bare CBV word is its Web URI. The JSON-LD context makes only these words terms of this
    # field; the reference instead replaces a matching word anywhere in the document.
    if isinstance(value, str):
        full = vocab.get(value)
        if full is not None:
            return full
        # Rule 15 in a CBV-typed field: CURIEs with the EPCIS context's prefixes (cbv:, gs1:) too.
        prefix, sep, local = value.partition(":")
        iri = ctx.vocab_ns.get(prefix) if sep else None
        return value if iri is None else iri + local
    return str(value)


# --------------------------------------------------------------------------------------------------------
# Generic rendering: user extensions, ILMD, leftovers (rules 19-21)
# --------------------------------------------------------------------------------------------------------


def _is_group(name: str) -> bool:
    # The reference folds every "...List" member (and childEPCs) into one element with one child per item.
    return name.endswith("List") or name == "childEPCs"


def _has_children(value: Any) -> bool:
    if isinstance(value, dict):
        return any(k not in _IGNORED and v != [] for k, v in value.items())
    return isinstance(value, list) and bool(value)


def _rename(name: str, value: Any) -> str:
    # Reference json_xml_model_mismatch_correction: JSON names mapped onto the XML element names.
    if name in ("inputEPC", "outputEPC"):
        return "epc"
    if name in ("inputQuantity", "outputQuantity", "childQuantity"):
        return "quantityElement"
    if name == "quantity" and _has_children(value):
        return "quantityElement"
    return name


def _entry(name: str, value: Any, ctx: _Ctx) -> str:
    """One generic element: ``name``, ``=value`` when it has a value, then its children."""
    if isinstance(value, dict):
        head = name
        if "#text" in value:
            text = _text(value["#text"], ctx).strip()
            if text:
                head += "=" + _canon(text)
        return head + _members(value, ctx)[0]
    if isinstance(value, list):
        parts = sorted(_entry("", item, ctx) for item in value)
        return name + "".join(parts)
    if isinstance(value, str):
        return ctx.leaf(name, value)
    text = str(value).strip()
    return name + "=" + _canon(text) if text else name


def _pair(value: Any, id_name: str, ctx: _Ctx) -> str:
    """A bizTransaction/source/destination: ``type=…`` then the identifier (rule 13, reference order).

    The reference pairs the first two JSON members in document order, so its string depends on whether
    ``type`` is written first; roadpass always renders ``type`` first (as the reference does for XML and
    for every test vector) and keeps any further members, sorted, after them.
    """
    if not isinstance(value, dict):
        return _entry(id_name, value, ctx)
    head = ""
    if "type" in value:
        kind = value["type"]
        vocab = _pair_vocab()[id_name]
        if isinstance(kind, str):
            text = _vocab_value(kind, vocab, ctx).strip()
            head = "type=" + _canon(text) if text else "type"
        else:
            head = _entry("type", kind, ctx)
    if id_name in value:
        head += _entry(id_name, value[id_name], ctx)
    if len(value) <= ("type" in value) + (id_name in value):
        return head
    rest = {k: v for k, v in value.items() if k not in ("type", id_name)}
    return head + _members(rest, ctx)[0]


def _generic(name: str, value: Any, ctx: _Ctx, out: list[str], groups: list[str] | None = None) -> None:
    """Append the generic strings of member ``name`` (one per element; a "List" member is one element)."""
    if _is_group(name):
        items = value if isinstance(value, list) else [value]
        if not items:
            return
        pair_id = _PAIR_LISTS.get(name)
        if pair_id is not None:
            parts = [_pair(item, pair_id, ctx) for item in items]
        elif name == "childEPCs":
            parts = [_entry("epc", "" if isinstance(item, dict | list) else item, ctx) for item in items]
        else:
            child = name[:-4]
            parts = [_entry(_rename(child, item), item, ctx) for item in items]
        parts.sort()
        (out if groups is None else groups).append(name + "".join(parts))
    elif isinstance(value, list):
        out.extend(_entry(_rename(name, item), item, ctx) for item in value)
    else:
        out.append(_entry(_rename(name, value), value, ctx))


def _members(obj: Mapping[str, Any], ctx: _Ctx) -> tuple[str, int]:
    """All members of a generic object, rendered and sorted; and how many elements they made."""
    out: list[str] = []
    groups: list[str] = []
    keep_order = False
    for key, value in obj.items():
        if key in _IGNORED or key.startswith("@xmlns"):
            continue
        name = ctx.key(key)
        keep_order = keep_order or name in _UNSORTED
        _generic(name, value, ctx, out, groups)
    if keep_order:
        # Reference should_sort(): an object holding bizTransaction/source/destination keeps its order,
        # with its "...List" members moved to the end.
        return "".join(out) + "".join(groups), len(out) + len(groups)
    out.extend(groups)
    out.sort()
    return "".join(out), len(out)


# --------------------------------------------------------------------------------------------------------
# Ordered rendering (rule 1, reference _recurse_through_children_in_order)
# --------------------------------------------------------------------------------------------------------


def _count(obj: Mapping[str, Any], ctx: _Ctx) -> int:
    """How many elements the reference's tree has for ``obj`` (a "...List" member is one element)."""
    count = 0
    for key, value in obj.items():
        if key in _IGNORED or key.startswith("@xmlns"):
            continue
        if isinstance(value, list):
            if value:
                count += 1 if _is_group(ctx.key(key)) else len(value)
        else:
            count += 1
    return count


def _node(name: str, value: Any, slot: _Slot, ctx: _Ctx) -> tuple[str, str | None]:
    """(ordered string, leftover string or None) for one element in an ordered slot."""
    if isinstance(value, dict):
        head = name
        generic_head = name
        if "#text" in value:
            text = _text(value["#text"], ctx).strip()
            if text:
                head += "=" + (_fix_time(text) if slot.time else _canon(text))
                generic_head += "=" + _canon(text)
        if slot.sub is not None:
            if len(value) == 1 and head == name:
                # The common case: {"id": "..."} (readPoint, bizLocation).
                ((key, inner),) = value.items()
                sub_slot = slot.sub.get(key)
                if sub_slot is not None and sub_slot.child is None and isinstance(inner, str) and ":" not in key:
                    text = (ctx.value(inner) if ctx.ns and ":" in inner else inner).strip()
                    if sub_slot.vocab is not None:
                        text = _vocab_value(inner, sub_slot.vocab, ctx).strip()
                    if not text:
                        return "", None
                    rendered = _fix_time(text) if sub_slot.time else _canon(text)
                    return f"{name}{key}={rendered}", None
            fragment, leftovers = _ordered(value, slot.sub, ctx, False)
            ordered = head + fragment if (head != name or fragment) else ""
            leftover = generic_head + "".join(sorted(leftovers)) if leftovers else None
            return ordered, leftover
        body, count = _members(value, ctx)
        return (head if head != name else ""), (generic_head + body if count else None)
    if isinstance(value, list):
        return "", (_entry(name, value, ctx) if value else None)
    text = (_vocab_value(value, slot.vocab, ctx) if slot.vocab is not None else _text(value, ctx)).strip()
    if not text:
        return "", None
    return name + "=" + (_fix_time(text) if slot.time else _canon(text)), None


def _group(name: str, value: Any, slot: _Slot, ctx: _Ctx) -> tuple[str, str | None]:
    """A "...List"/childEPCs field in the canonical order: its items under their (XML) element name."""
    items = value if isinstance(value, list) else [value]
    if slot.child == "epc":
        # The common case: a list of EPC strings.
        memo = ctx.epcs
        epcs: list[str] = []
        for item in items:
            if not isinstance(item, str):
                break
            text = memo.get(item)
            if text is None:
                text = ctx.epc(item)
            if text:
                epcs.append(text)
        else:
            # Sorted without their common "epc=" prefix, which comes out the same.
            epcs.sort()
            return (name + "epc=" + "epc=".join(epcs) if epcs else ""), None
    child_slot = slot.child_slot
    assert child_slot is not None
    rendered: list[str] = []
    leftovers: list[str] = []
    for item in items:
        if name == "childEPCs":
            if isinstance(item, dict | list):
                continue  # the reference keeps only the text of a childEPCs item
            child = "epc"
        else:
            child = _rename(name[:-4], item)
        if child != slot.child:
            leftovers.append(_entry(child, item, ctx))
            continue
        ordered, leftover = _node(child, item, child_slot, ctx)
        if ordered:
            rendered.append(ordered)
        if leftover is not None:
            leftovers.append(leftover)
    rendered.sort()
    leftovers.sort()
    return (name + "".join(rendered) if rendered else ""), (name + "".join(leftovers) if leftovers else None)


def _one_member(value: Any) -> tuple[str, str] | None:
    """(key, text) of a one-member object with a string value (a memo key), else None."""
    if isinstance(value, dict) and len(value) == 1:
        ((key, text),) = value.items()
        if isinstance(text, str):
            return key, text
    return None


def _ordered(obj: Mapping[str, Any], order: Mapping[str, _Slot], ctx: _Ctx, top: bool) -> tuple[str, list[str]]:
    """The ordered part of ``obj`` and the generic strings of what the order does not take."""
    parts: list[tuple[int, str]] = []
    leftovers: list[str] = []
    candidates: list[tuple[str, Any]] = []
    anchored = False
    ns = ctx.ns
    plans = ctx.plans.get(id(order))
    if plans is None:
        plans = ctx.plans[id(order)] = {}
    for key, value in obj.items():
        plan = plans.get(key) or ctx.plan(order, key, top)
        kind, name, slot, anchors, memo = plan
        if anchors:
            anchored = True
        if kind == _SLOT:
            assert slot is not None
            if memo is not None:
                # A string or a one-member object such as {"id": "urn:..."} renders the same every time.
                memo_key = value if isinstance(value, str) else _one_member(value)
                if memo_key is not None:
                    rendered = memo.get(memo_key)
                    if rendered is None:
                        ordered, leftover = _node(name, value, slot, ctx)
                        rendered = ((slot.position, ordered) if ordered else None), leftover
                        if len(memo) >= _MEMO_LIMIT:
                            memo.clear()
                        memo[memo_key] = rendered
                    part, leftover = rendered
                    if part is not None:
                        parts.append(part)
                    if leftover is not None:
                        leftovers.append(leftover)
                    continue
            if slot.child is None and isinstance(value, str):
                # A time (eventTime...): one string value, not memoised.
                vocab = slot.vocab
                if vocab is not None:
                    text = _vocab_value(value, vocab, ctx).strip()
                elif ns and ":" in value:
                    text = ctx.value(value).strip()
                else:
                    text = value.strip()
                if text:
                    parts.append((slot.position, name + "=" + (_fix_time(text) if slot.time else _canon(text))))
                continue
            if slot.child is not None:
                if isinstance(value, list) and not value:
                    continue
                ordered, leftover = _group(name, value, slot, ctx)
                if ordered:
                    parts.append((slot.position, ordered))
                if leftover is not None:
                    leftovers.append(leftover)
                continue
            for item in value if isinstance(value, list) else (value,):
                ordered, leftover = _node(name, item, slot, ctx)
                if ordered:
                    parts.append((slot.position, ordered))
                if leftover is not None:
                    leftovers.append(leftover)
        elif kind == _LEFTOVER:
            _generic(name, value, ctx, leftovers)
        elif kind == _CANDIDATE:
            candidates.append((name, value))
    parts.sort()
    fragment = "".join([text for _, text in parts])
    if candidates:
        fragment += _extensions(obj, candidates, anchored, ctx, leftovers)
    return fragment, leftovers


def _extensions(
    obj: Mapping[str, Any], candidates: list[tuple[str, Any]], anchored: bool, ctx: _Ctx, leftovers: list[str]
) -> str:
    """The namespaced members of ``obj`` rendered as its extensions, or "" when they are leftovers."""
    # Reference _gather_user_extensions: below the event level, the namespaced members of an object
    # with more than one element are its extensions, appended after its ordered fields (rule 21).
    if not anchored and _count(obj, ctx) > 1:
        extensions: list[str] = []
        for name, value in candidates:
            _generic(name, value, ctx, extensions)
        extensions.sort()
        return "".join(extensions)
    for name, value in candidates:
        _generic(name, value, ctx, leftovers)
    return ""
