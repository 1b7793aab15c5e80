"""The master data service: list and read vocabulary elements with their history, and name identifiers.

Master data (product, site and party names and addresses) is readable by any signed-in party (see
:mod:`roadpass.access.policy`), so these reads take no visibility. Each call is one read transaction; naming
the identifiers of a whole page (a tree, a timeline) is one batched read, however many identifiers it holds.
"""

from __future__ import annotations

from collections.abc import Iterable

from roadpass.trace.master_data import (
    MasterDataPage,
    MasterDataQuery,
    VocabularyElement,
    canonical_key,
    name_keys,
    pick_names,
    vocabulary_type,
)
from roadpass.trace.master_data_ports import MasterDataStore

__all__ = ["ElementNotFound", "MasterDataService"]


class ElementNotFound(LookupError):
    """No master data is held for this vocabulary type and key."""


class MasterDataService:
    """Vocabulary elements as captured, with every version kept."""

    def __init__(self, store: MasterDataStore) -> None:
        self.store = store

    def list(self, query: MasterDataQuery) -> MasterDataPage:
        """One page of elements (latest versions) matching ``query``, ordered by type then key."""
        kept: list[VocabularyElement] = []
        after = query.after
        with self.store.read() as records:
            while True:
                want = query.per_page + 1 - len(kept)
                batch = records.current_elements(query, after, want)
                kept.extend(e for e in batch if query.matches(e))
                # The store over-approximates a name filter; fetch on until the page (and one more) is full.
                if len(kept) > query.per_page or len(batch) < want:
                    break
                after = (batch[-1].vocabulary_type, batch[-1].key)
        page = MasterDataPage(kept[: query.per_page])
        if len(kept) > query.per_page:
            page.next_token = query.token_after(page.elements[-1])
        return page

    def element(self, vocabulary_type_: str, key: str) -> VocabularyElement:
        """One element (type by short name or URI, key in any identifier form) with all its versions."""
        wanted = vocabulary_type(vocabulary_type_)
        canonical = canonical_key(key)
        with self.store.read() as records:
            found = records.histories([canonical], wanted)
        if not found:
            raise ElementNotFound(f"no master data is held for {wanted} {canonical}")
        return found[0]

    def names(self, identifiers: Iterable[str], at: int | None = None) -> dict[str, str]:
        """Names for identifiers as given (any form: EPC URN, Digital Link URI): a product's for a GTIN-based
        key, a site's for a location, a party's, as they stood at ``at`` (None: now), in one read;
        identifiers nothing names are left out."""
        given = {value: canonical_key(value) for value in identifiers}
        candidates = sorted({k for key in given.values() for k in name_keys(key)})
        if not candidates:
            return {}
        with self.store.read() as records:
            elements = records.histories(candidates)
        named = pick_names(set(given.values()), elements, at)
        return {value: named[key] for value, key in given.items() if key in named}
