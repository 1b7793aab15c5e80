"""The genealogy index's vehicle columns: look-ups, market changes in place, vehicles added later."""

from __future__ import annotations

import numpy as np

from roadpass.store.genealogy_index import VehicleTable


def test_slots_and_facts() -> None:
    table = VehicleTable.of({7: ("k7", "VIN7", "DE"), 3: ("k3", "VIN3", None)})
    assert table.slots(np.array([3, 5, 7, 99], dtype=np.int64)).tolist() == [0, -1, 1, -1]
    assert table.get(7) == ("k7", "VIN7", "DE")
    assert table.get(5) is None
    assert VehicleTable.of({}).slots(np.array([1], dtype=np.int64)).tolist() == [-1]


def test_market_change_is_applied_in_place() -> None:
    table = VehicleTable.of({3: ("k3", "VIN3", None), 7: ("k7", "VIN7", "DE")})
    same = table.merged({3: ("k3", "VIN3", "MX")})
    assert same is table
    assert table.get(3) == ("k3", "VIN3", "MX")
    assert table.market_names[int(table.market_code[0])] == "MX"


def test_new_vehicles_append_or_rebuild_in_id_order() -> None:
    table = VehicleTable.of({3: ("k3", "B", "DE")})
    grown = table.merged({9: ("k9", "A", "SA")})
    assert grown.ids.tolist() == [3, 9]
    assert grown.vin_text.tolist() == ["B", "A"]
    assert [grown.market_names[c] for c in grown.market_code.tolist()] == ["DE", "SA"]
    # An id below the last one (not how ids are handed out, but allowed): the table is rebuilt in order.
    rebuilt = grown.merged({5: ("k5", "C", None)})
    assert rebuilt.ids.tolist() == [3, 5, 9]
    assert rebuilt.get(5) == ("k5", "C", None)
    assert rebuilt.get(9) == ("k9", "A", "SA")
