"""UN Regulation No. 156 as data: the clauses roadpass cites, the campaign states and what a claim may set.

The text lives in ``r156.yaml`` beside this module (standards are data); this module reads it once, on first
use, and answers the citations the ledger entries, the evidence and the API carry.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

__all__ = ["R156", "r156"]

_PATH = Path(__file__).resolve().with_name("r156.yaml")


@dataclass(frozen=True, slots=True)
class R156:
    """The regulation's clauses (by name: paragraph and quote), states, claims and sources."""

    standard_id: str
    clauses: Mapping[str, Mapping[str, str]]
    states: Mapping[str, str]
    claims: Mapping[str, str | None]
    sources: tuple[Mapping[str, str], ...]

    def cite(self, clause: str) -> str:
        """``UN R156 para. 2.2 (rxswin)``: the rule a ledger entry or a reason names."""
        return f"UN R156 para. {self.clauses[clause]['para']} ({clause.replace('_', ' ')})"


@functools.lru_cache(maxsize=1)
def r156() -> R156:
    """The regulation data, read once per process."""
    raw: dict[str, Any] = yaml.safe_load(_PATH.read_text(encoding="utf-8"))
    return R156(
        standard_id=str(raw["standard_id"]),
        clauses={k: {kk: str(vv) for kk, vv in v.items()} for k, v in raw["clauses"].items()},
        states={str(k): str(v) for k, v in raw["states"].items()},
        claims={str(k): None if v is None else str(v) for k, v in raw["claims"].items()},
        sources=tuple({str(k): str(v) for k, v in s.items()} for s in raw["sources"]),
    )
