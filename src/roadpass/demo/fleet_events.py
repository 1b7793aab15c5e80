"""EPCIS 2.0 JSON-LD production events of the demo fleet (cells to finished vehicles).

Events are built from the planner's records when their time comes.

Business steps, dispositions, source/destination types and business transaction types are the CBV 2.0 bare
words the GS1 JSON-LD context defines (CBV 2.0 sections 7.1-7.4). Fields outside EPCIS live under roadpass's
own namespace (prefix ``rp``, declared in each document's ``@context``). Business transaction identifiers use
the CBV form ``urn:epcglobal:cbv:bt:<GLN of the issuer>:<number>`` (CBV 2.0 section 8.5.2).
"""

from __future__ import annotations

from typing import Any

from roadpass.demo.fleet_world import (
    L_CELLS,
    L_CLASS,
    L_CODE,
    P_MODULES,
    P_NO,
    P_VARIANT,
    SERIAL_BASE,
    V_COUNTRY,
    V_EPC,
    V_IDX,
    V_MODEL_YEAR,
    V_PLANT,
    V_SERIAL,
    V_VARIANT,
    V_VIN,
    LotRec,
    PackRec,
    Site,
    VehicleRec,
    World,
)

__all__ = ["Event", "ProductionEvents", "bt"]

Event = dict[str, Any]


def bt(gln: str, number: str) -> str:
    """A CBV business transaction URI issued by the party or site with GLN ``gln``."""
    return f"urn:epcglobal:cbv:bt:{gln}:{number}"


class ProductionEvents:
    """Builders of the production events; each takes the event's UTC time and the planner's record."""

    def __init__(self, world: World) -> None:
        self.w = world
        w = world
        self.carmaker_pgln = w.carmaker.pgln
        self.carmaker_gln = w.carmaker.gln
        self.cells_per_module = int(w.cell["per_module"])
        self.cell_ilmd = {
            "cbvmda:countryOfOrigin": w.cell_site.loc.country,
            "rp:cellChemistry": w.cell["chemistry"],
            "rp:cellFormat": w.cell["format"],
            "rp:nominalCapacityAh": w.cell["capacity_ah"],
        }
        self.kwh = {str(v["code"]): float(v["kwh"]) for v in w.variants}
        self.tester = f"urn:epc:id:giai:{w.pack.site.party.gcp}.EOL-TESTER-"

    # ------------------------------------------------------------------------------------ battery chain

    def lot_made(self, t: int, lot: LotRec) -> Event:
        """Cell maker commissions a cell lot: a class-level quantity, with the lot's master data (ILMD)."""
        site = self.w.cell_site
        when, off = site.when(t)
        return {
            "type": "ObjectEvent",
            "eventTime": when,
            "eventTimeZoneOffset": off,
            "quantityList": [{"epcClass": lot[L_CLASS], "quantity": lot[L_CELLS], "uom": "H87"}],
            "action": "ADD",
            "bizStep": "commissioning",
            "disposition": "active",
            "readPoint": {"id": site.stem + "1"},
            "bizLocation": {"id": site.biz},
            "ilmd": {**self.cell_ilmd, "cbvmda:lotNumber": lot[L_CODE]},
        }

    def modules_made(self, t: int, group: tuple[LotRec, tuple[int, ...]]) -> Event:
        """Module maker turns cells of exactly one lot into a batch of serialised modules."""
        lot, modules = group
        site = self.w.module.site
        when, off = site.when(t)
        prefix = self.w.module.prefix
        return {
            "type": "TransformationEvent",
            "eventTime": when,
            "eventTimeZoneOffset": off,
            "inputQuantityList": [
                {"epcClass": lot[L_CLASS], "quantity": len(modules) * self.cells_per_module, "uom": "H87"}
            ],
            "outputEPCList": [prefix + str(m) for m in modules],
            "bizStep": "commissioning",
            "disposition": "active",
            "readPoint": {"id": site.stem + "2"},
            "bizLocation": {"id": site.biz},
            "ilmd": {"rp:cellsPerModule": self.cells_per_module, "cbvmda:countryOfOrigin": site.loc.country},
        }

    def bms_made(self, t: int, packs: tuple[PackRec, ...]) -> Event:
        """BMS supplier commissions one battery management ECU per pack of the batch."""
        bms = self.w.bms
        prefix = bms.prefix
        return self._commissioned(t, bms.site, [prefix + str(SERIAL_BASE + p[P_NO]) for p in packs], dict(bms.ilmd))

    def parts_made(self, t: int, job: tuple[int, tuple[VehicleRec, ...]]) -> Event:
        """A tier-1 supplier commissions the serialised parts of one kit batch of vehicles."""
        part = self.w.parts[job[0]]
        heads, variants = part.heads, part.variants
        if variants is None:
            epcs = [h + v[V_SERIAL] for v in job[1] for h in heads]
        else:
            epcs = [h + v[V_SERIAL] for v in job[1] if v[V_VARIANT] in variants for h in heads]
        return self._commissioned(t, part.site, epcs, dict(part.ilmd))

    @staticmethod
    def _event(
        kind: str, t: int, site: Site, point: str, action: str, step: str, disposition: str,
        *, located: bool = True, **fields: Any,
    ) -> Event:
        """The frame every fleet event shares: ``kind`` read at ``site``'s read point ``point`` at ``t``
        (local time and offset of the site), with its action, business step and disposition; the site is
        the business location too unless the goods are on the move (``located=False``)."""
        when, off = site.when(t)
        ev: Event = {
            "type": kind,
            "eventTime": when,
            "eventTimeZoneOffset": off,
            **fields,
            "action": action,
            "bizStep": step,
            "disposition": disposition,
            "readPoint": {"id": site.stem + point},
        }
        if located:
            ev["bizLocation"] = {"id": site.biz}
        return ev

    def _commissioned(self, t: int, site: Site, epcs: list[str], ilmd: dict[str, Any], point: str = "1") -> Event:
        ev = self._event("ObjectEvent", t, site, point, "ADD", "commissioning", "active", epcList=epcs)
        ev["ilmd"] = ilmd
        return ev

    def pack_started(self, t: int, pack: PackRec) -> Event:
        """Pack assembler labels a new pack housing: commissioning with the pack's master data."""
        site = self.w.pack.site
        modules = len(pack[P_MODULES])
        ilmd = {
            "cbvmda:countryOfOrigin": site.loc.country,
            "rp:nominalEnergyKWh": self.kwh[pack[P_VARIANT]],
            "rp:cellChemistry": self.cell_ilmd["rp:cellChemistry"],
            "rp:moduleCount": modules,
            "rp:cellCount": modules * self.cells_per_module,
        }
        return self._commissioned(t, site, [self.w.pack_epc(pack)], ilmd)

    def pack_built(self, t: int, pack: PackRec) -> Event:
        """Pack assembler aggregates the modules and the BMS into the pack."""
        return self._event(
            "AggregationEvent", t, self.w.pack.site, "3", "ADD", "assembling", "in_progress",
            parentID=self.w.pack_epc(pack), childEPCs=self.w.pack_children(pack),
        )

    def pack_tested(self, t: int, pack: PackRec) -> Event:
        """End-of-line pack test: temperature, open-circuit voltage, insulation resistance, UN 38.3 report."""
        n = pack[P_NO]
        cells = len(pack[P_MODULES]) * self.cells_per_module
        ev = self._event(
            "ObjectEvent", t, self.w.pack.site, "4", "OBSERVE", "inspecting", "conformant",
            epcList=[self.w.pack.prefix + str(SERIAL_BASE + n)],
        )
        return ev | {
            "certificationInfo": f"https://reports.jatc.example/un38-3/LX-PACK-{pack[P_VARIANT]}",
            "sensorElementList": [
                {
                    "sensorMetadata": {"time": ev["eventTime"], "deviceID": self.tester + str(1 + n % 4)},
                    "sensorReport": [
                        {"type": "Temperature", "value": 23.0 + (n * 37 % 50) / 10, "uom": "CEL"},
                        {"type": "Voltage", "value": round(cells * 3.29 + (n * 13 % 40) / 10, 1), "uom": "VLT"},
                        {"type": "Resistance", "value": 480 + n * 7 % 300, "uom": "B75"},
                    ],
                }
            ],
        }

    # ------------------------------------------------------------------------------------ vehicle plant

    def vin_stamped(self, t: int, v: VehicleRec) -> Event:
        """Body shop stamps the VIN: the vehicle (a GIAI) is commissioned with its build master data."""
        site = self.w.sites[v[V_PLANT]]
        ilmd = {
            "rp:vin": v[V_VIN],
            "rp:model": self.w.model["name"],
            "rp:variant": v[V_VARIANT],
            "rp:modelYear": v[V_MODEL_YEAR],
            "rp:destinationCountry": v[V_COUNTRY],
            "cbvmda:countryOfOrigin": site.loc.country,
        }
        return self._commissioned(t, site, [v[V_EPC]], ilmd, "11")

    def vehicle_built(self, t: int, v: VehicleRec) -> Event:
        """Final assembly: the pack and every serialised part are aggregated into the vehicle."""
        site = self.w.sites[v[V_PLANT]]
        return self._event(
            "AggregationEvent", t, site, "12", "ADD", "assembling", "in_progress",
            parentID=v[V_EPC], childEPCs=self.w.vehicle_children(v),
            bizTransactionList=[{"type": "prodorder", "bizTransaction": bt(site.gln, f"PRD{v[V_IDX]:08d}")}],
        )

    def vehicle_tested(self, t: int, v: VehicleRec) -> Event:
        """End-of-line inspection; the certificate of conformity for the destination market is linked."""
        return self._event(
            "ObjectEvent", t, self.w.sites[v[V_PLANT]], "13", "OBSERVE", "inspecting", "conformant",
            epcList=[v[V_EPC]], certificationInfo=[f"https://coc.lanxing-auto.example/{v[V_COUNTRY]}/{v[V_VIN]}"],
        )
