"""An obviously correct, slow, in-memory model of as-built and where-used, to check the real one against.

It keeps every fact and, for any instant, replays the facts up to that instant from scratch.
"""

from __future__ import annotations

from dataclasses import dataclass, field

FOREVER = 2**62


@dataclass(frozen=True)
class Fact:
    time: int
    seq: int
    kind: str  # "ADD" | "DELETE" | "OBSERVE" | "MADE_FROM"
    parent: str
    child: str


@dataclass
class ReferenceModel:
    facts: list[Fact] = field(default_factory=list)
    vins: dict[str, str] = field(default_factory=dict)  # unit -> VIN

    def state(self, at: int) -> tuple[dict[str, str], set[tuple[str, str]]]:
        """(child -> containing parent, {(output, input) made-from pairs}) after every fact at or before ``at``."""
        parent_of: dict[str, str] = {}
        made: set[tuple[str, str]] = set()
        for fact in sorted(self.facts, key=lambda f: (f.time, f.seq)):
            if fact.time > at:
                break
            if fact.kind == "MADE_FROM":
                made.add((fact.parent, fact.child))
            elif fact.kind in ("ADD", "OBSERVE"):
                parent_of[fact.child] = fact.parent
            elif fact.kind == "DELETE" and parent_of.get(fact.child) == fact.parent:
                del parent_of[fact.child]
        return parent_of, made

    def children(self, unit: str, at: int) -> set[str]:
        parent_of, made = self.state(at)
        return {c for c, p in parent_of.items() if p == unit} | {i for o, i in made if o == unit}

    def subtree(self, unit: str, at: int) -> set[str]:
        parent_of, made = self.state(at)
        kids: dict[str, set[str]] = {}
        for c, p in parent_of.items():
            kids.setdefault(p, set()).add(c)
        for o, i in made:
            kids.setdefault(o, set()).add(i)
        seen: set[str] = set()
        todo = [unit]
        while todo:
            node = todo.pop()
            for kid in kids.get(node, ()):
                if kid not in seen and kid != unit:
                    seen.add(kid)
                    todo.append(kid)
        return seen

    def holders(self, target: str, at: int) -> set[str]:
        """Units whose subtree holds ``target`` at ``at``."""
        units = {f.parent for f in self.facts} | {f.child for f in self.facts}
        return {u for u in units if u != target and target in self.subtree(u, at)}

    def roots(self, target: str, at: int) -> set[str]:
        parent_of, made = self.state(at)
        has_parent = set(parent_of) | {i for _o, i in made}
        return {u for u in self.holders(target, at) if u not in has_parent}

    def where_used_at(self, target: str, at: int) -> set[str]:
        holders = self.holders(target, at)
        return {u for u in holders if u in self.vins} | self.roots(target, at)

    def where_used_ever(self, target: str) -> dict[str, list[tuple[int, int]]]:
        """VIN units that ever held ``target`` with their spans, plus every other unit that was the root of
        its chain while holding it, with the stretches of being root that end because the unit let go of
        ``target`` (it no longer holds it at the stretch's end) or that have not ended. A stretch that ends
        because the unit went into a parent while holding ``target`` is the new root's from then on."""
        instants = sorted({f.time for f in self.facts})
        spans: dict[str, list[tuple[int, int]]] = {}
        rooted: dict[str, list[tuple[int, int]]] = {}
        for i, start in enumerate(instants):
            end = instants[i + 1] if i + 1 < len(instants) else FOREVER
            roots = self.roots(target, start)
            for unit in self.holders(target, start):
                if unit not in self.vins and unit not in roots:
                    continue
                current = (spans if unit in self.vins else rooted).setdefault(unit, [])
                if current and current[-1][1] == start:
                    current[-1] = (current[-1][0], end)
                else:
                    current.append((start, end))
        for unit, stretches in rooted.items():
            kept = [(a, b) for a, b in stretches if b == FOREVER or unit not in self.holders(target, b)]
            if kept:
                spans[unit] = kept
        return spans
