"""EPCIS 2.0 JSON-LD events of the demo fleet after the plant: export, import, dealers, sale, service.

Business steps and dispositions are CBV 2.0 bare words (CBV 2.0 sections 7.1-7.2); the source/destination
lists use the CBV types ``owning_party``, ``possessing_party`` and ``location`` (section 7.4). The import
customs step is CBV ``entering_exiting`` with roadpass's own fields (``rp:importDeclaration``, ``rp:hsCode``).
"""

from __future__ import annotations

from typing import Any

from roadpass.demo.fleet_events import Event, ProductionEvents, bt
from roadpass.demo.fleet_model import local_time
from roadpass.demo.fleet_world import (
    S_INSTALLED,
    S_NO,
    S_PART,
    S_RECYCLER,
    S_REMOVED,
    S_VEHICLE,
    S_WORKSHOP,
    V_DEALER,
    V_EPC,
    V_IDX,
    V_PACK,
    Consignment,
    ServiceRec,
    Site,
    VehicleRec,
)

__all__ = ["Events"]


class Events(ProductionEvents):
    """Every event builder of the fleet: production (inherited), then market and aftermarket."""

    # ------------------------------------------------------------------------------------ export

    def _trade(self, c: Consignment) -> list[dict[str, str]]:
        importer_gln = c.market.importer_gln
        return [
            {"type": "po", "bizTransaction": bt(importer_gln, f"PO{c.no:07d}")},
            {"type": "desadv", "bizTransaction": bt(self.carmaker_gln, f"DA{c.no:07d}")},
            {"type": "bol", "bizTransaction": bt(self.carmaker_gln, f"BL{c.market.country}{c.no:07d}")},
        ]

    def _export(self, t: int, c: Consignment, site: Site, step: str, disposition: str, ext: str) -> Event:
        return self._event(
            "ObjectEvent", t, site, ext, "OBSERVE", step, disposition, located=False,
            epcList=[v[V_EPC] for v in c.vehicles],
        )

    def loaded(self, t: int, c: Consignment) -> Event:
        """Vehicles of one bill of lading are driven onto the ro-ro vessel at the Chinese port."""
        ev = self._export(t, c, c.market.origin, "loading", "in_transit", "21")
        ev["bizLocation"] = {"id": c.market.origin.biz}
        return ev

    def shipped(self, t: int, c: Consignment) -> Event:
        """Shipment under the bill of lading: ownership passes from carmaker to importer, bound for the port."""
        ev = self._export(t, c, c.market.origin, "shipping", "in_transit", "22")
        ev["bizTransactionList"] = self._trade(c)
        ev["sourceList"] = [
            {"type": "owning_party", "source": self.carmaker_pgln},
            {"type": "location", "source": c.market.origin.biz},
        ]
        ev["destinationList"] = [
            {"type": "owning_party", "destination": c.market.importer_pgln},
            {"type": "location", "destination": c.market.port.biz},
        ]
        return ev

    def departed(self, t: int, c: Consignment) -> Event:
        """The ro-ro vessel leaves the Chinese port."""
        return self._export(t, c, c.market.origin, "departing", "in_transit", "23")

    def arrived(self, t: int, c: Consignment) -> Event:
        """The vessel berths at the market's port of entry."""
        return self._export(t, c, c.market.port, "arriving", "in_transit", "31")

    def received(self, t: int, c: Consignment) -> Event:
        """The importer's vehicle processing centre receives the discharged vehicles."""
        ev = self._export(t, c, c.market.port, "receiving", "in_progress", "32")
        ev["bizLocation"] = {"id": c.market.port.biz}
        ev["bizTransactionList"] = self._trade(c)[:2]
        ev["sourceList"] = [{"type": "owning_party", "source": self.carmaker_pgln}]
        ev["destinationList"] = [
            {"type": "owning_party", "destination": c.market.importer_pgln},
            {"type": "location", "destination": c.market.port.biz},
        ]
        return ev

    def cleared(self, t: int, c: Consignment) -> Event:
        """Import customs clearance (release for free circulation), with the declaration's reference."""
        ev = self._export(t, c, c.market.port, "entering_exiting", "in_progress", "33")
        ev["bizLocation"] = {"id": c.market.port.biz}
        year = local_time(t, 0)[2:4]
        ev["rp:importDeclaration"] = f"{year}{c.market.country}{c.no:013d}{'ABCDEFGHJK'[c.no % 10]}"
        ev["rp:customsAuthority"] = c.market.authority.pgln
        ev["rp:hsCode"] = str(self.w.model["hs_code"])
        return ev

    def dispatched(self, t: int, job: tuple[Consignment, str]) -> Event | None:
        """The importer trucks a consignment's vehicles for one dealer out of the port."""
        c, dealer_key = job
        vehicles = c.by_dealer.get(dealer_key)
        if not vehicles:
            return None
        dealer = self.w.sites[dealer_key]
        port = c.market.port
        return self._event(
            "ObjectEvent", t, port, "34", "OBSERVE", "shipping", "in_transit", located=False,
            epcList=[v[V_EPC] for v in vehicles],
            bizTransactionList=[{"type": "desadv", "bizTransaction": bt(port.gln, f"DD{c.no:06d}{dealer_key[-1]}")}],
            sourceList=[
                {"type": "owning_party", "source": c.market.importer_pgln},
                {"type": "location", "source": port.biz},
            ],
            destinationList=[
                {"type": "owning_party", "destination": dealer.pgln},
                {"type": "location", "destination": dealer.biz},
            ],
        )

    def delivered(self, t: int, job: tuple[Consignment, str]) -> Event | None:
        """The dealer receives its vehicles into stock, ready for sale."""
        c, dealer_key = job
        vehicles = c.by_dealer.get(dealer_key)
        if not vehicles:
            return None
        dealer = self.w.sites[dealer_key]
        return self._event(
            "ObjectEvent", t, dealer, "1", "OBSERVE", "receiving", "sellable_accessible",
            epcList=[v[V_EPC] for v in vehicles],
            bizTransactionList=[
                {"type": "desadv", "bizTransaction": bt(c.market.port.gln, f"DD{c.no:06d}{dealer_key[-1]}")}
            ],
            sourceList=[{"type": "owning_party", "source": c.market.importer_pgln}],
            destinationList=[
                {"type": "owning_party", "destination": dealer.pgln},
                {"type": "location", "destination": dealer.biz},
            ],
        )

    def sold(self, t: int, v: VehicleRec) -> Event:
        """Retail sale at the dealer: this is what sets the vehicle's market."""
        dealer = self.w.sites[v[V_DEALER]]
        return self._event(
            "ObjectEvent", t, dealer, "2", "OBSERVE", "retail_selling", "retail_sold", epcList=[v[V_EPC]],
            bizTransactionList=[{"type": "inv", "bizTransaction": bt(dealer.gln, f"INV{v[V_IDX] + 1:07d}")}],
        )

    # ------------------------------------------------------------------------------------ aftermarket

    def spare_made(self, t: int, s: ServiceRec) -> Event:
        """The part's supplier commissions the replacement part for the workshop."""
        part = self.w.by_key[s[S_PART]]
        return self._commissioned(t, part.site, [s[S_INSTALLED]], {**part.ilmd, "rp:servicePart": True})

    def _at_workshop(
        self, t: int, s: ServiceRec, kind: str, point: str, action: str, step: str, disposition: str,
        **fields: Any,
    ) -> Event:
        """A repair event at the service visit's workshop, under the visit's return authorisation (RMA)."""
        site = self.w.sites[s[S_WORKSHOP]]
        rma = [{"type": "rma", "bizTransaction": bt(site.gln, f"RMA{s[S_NO]:06d}")}]
        return self._event(kind, t, site, point, action, step, disposition, **fields, bizTransactionList=rma)

    def diagnosed(self, t: int, s: ServiceRec) -> Event:
        """Workshop diagnosis: the part is found faulty and flagged for replacement."""
        return self._at_workshop(
            t, s, "ObjectEvent", "1", "OBSERVE", "inspecting", "non_conformant", epcList=[s[S_REMOVED]],
            persistentDisposition={"set": ["needs_replacement"]},
        )

    def removed(self, t: int, s: ServiceRec) -> Event:
        """The faulty part is taken out of the vehicle."""
        return self._at_workshop(
            t, s, "AggregationEvent", "2", "DELETE", "repairing", "needs_replacement",
            parentID=s[S_VEHICLE][V_EPC], childEPCs=[s[S_REMOVED]],
        )

    def installed(self, t: int, s: ServiceRec) -> Event:
        """The replacement part goes into the vehicle."""
        return self._at_workshop(
            t, s, "AggregationEvent", "2", "ADD", "repairing", "active",
            parentID=s[S_VEHICLE][V_EPC], childEPCs=[s[S_INSTALLED]],
        )

    def pack_returned(self, t: int, s: ServiceRec) -> Event:
        """The removed pack leaves the workshop for the market's battery recycler."""
        site = self.w.sites[s[S_WORKSHOP]]
        recycler = self.w.sites[s[S_RECYCLER]]
        return self._event(
            "ObjectEvent", t, site, "3", "OBSERVE", "shipping", "in_transit", located=False,
            epcList=[s[S_REMOVED]],
            sourceList=[
                {"type": "possessing_party", "source": site.pgln},
                {"type": "location", "source": site.biz},
            ],
            destinationList=[
                {"type": "possessing_party", "destination": recycler.pgln},
                {"type": "location", "destination": recycler.biz},
            ],
        )

    def pack_accepted(self, t: int, s: ServiceRec) -> Event:
        """The recycler receives the pack."""
        site = self.w.sites[s[S_RECYCLER]]
        return self._event(
            "ObjectEvent", t, site, "1", "OBSERVE", "receiving", "in_progress", epcList=[s[S_REMOVED]],
            sourceList=[{"type": "possessing_party", "source": self.w.sites[s[S_WORKSHOP]].pgln}],
            destinationList=[{"type": "possessing_party", "destination": site.pgln}],
        )

    def pack_dismantled(self, t: int, s: ServiceRec) -> Event:
        """The recycler takes the modules and the BMS out of the pack (time-aware genealogy, level 2)."""
        return self._event(
            "AggregationEvent", t, self.w.sites[s[S_RECYCLER]], "2", "DELETE", "disassembling", "inactive",
            parentID=s[S_REMOVED], childEPCs=self.w.pack_children(s[S_VEHICLE][V_PACK]),
        )
