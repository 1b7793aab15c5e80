"""The local multi-node demo, as data and pure rules: which nodes run (four: Frankfurt, Riyadh, Singapore and
the maker's home node), who is whose peer, and which node captures each event of the demo fleet.

The split follows the residency model (docs/regions.md): the build record (cells, modules, packs, parts,
vehicles, the export from China) is captured on the home node; what happens to a vehicle from its arrival in
its market (import, sale, service, recycling) is captured on the node of the market's region, where the
keeper's data arises. Markets whose region has no node in the demo are left out (and counted), never put on
another region's node. ``roadpass nodes demo`` (cli/nodes_demo.py) runs the nodes; this module decides.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "DEMO_NODES",
    "HOME",
    "MARKET_REGIONS",
    "DemoNode",
    "DemoSplit",
    "node_environment",
    "peers_of",
    "split_documents",
    "webhook_party",
]

HOME = "home"


@dataclass(frozen=True, slots=True)
class DemoNode:
    """One node of the demo: its name, its region (a key of regions.yaml) and the city it stands for."""

    name: str
    region: str
    city: str


#: The five nodes of ``roadpass nodes demo`` (issue: regional nodes, "Nodes"); Mexico City comes last so that
#: the first four keep their ports.
DEMO_NODES: tuple[DemoNode, ...] = (
    DemoNode("frankfurt", "eu-central", "Frankfurt am Main"),
    DemoNode("riyadh", "me-central", "Riyadh"),
    DemoNode("singapore", "ap-southeast", "Singapore"),
    DemoNode(HOME, "cn-east", "Shanghai (the maker's home)"),
    DemoNode("mexico-city", "na-central", "Mexico City"),
)

#: Which region serves each market of the demo fleet (demo configuration, not law). The EU markets are
#: served from Frankfurt (one GDPR area, Reg. (EU) 2016/679 Art. 3); the UAE is served from Riyadh and
#: Thailand, Indonesia and Malaysia from Singapore in the demo only: whether their own laws (UAE PDPL,
#: Thai PDPA, Indonesian PDP Law, Malaysian PDPA) allow that is to confirm, and a real deployment would give
#: each its own node. Mexico is served from Mexico City (na-central).
MARKET_REGIONS: Mapping[str, str] = {
    "DE": "eu-central", "NL": "eu-central", "FR": "eu-central", "BE": "eu-central", "ES": "eu-central",
    "SA": "me-central", "AE": "me-central",
    "TH": "ap-southeast", "ID": "ap-southeast", "MY": "ap-southeast",
    "MX": "na-central",
}

#: Site roles where a vehicle in its market is handled (everything at a factory, a lab or an export port in
#: China is the build record).
_MARKET_ROLES = frozenset({"port", "dealer", "workshop", "recycler"})


def webhook_party(node: str) -> str:
    """The party key, on a receiving node, under whose webhook key ``node`` delivers its events."""
    return f"node-{node}"


def peers_of(node: DemoNode, ports: Mapping[str, int], nodes: Iterable[DemoNode] = DEMO_NODES,
             api_keys: Mapping[str, str] | None = None) -> list[dict[str, str]]:
    """``ROADPASS_PEERS`` of ``node``. The home node is every regional node's peer, known there as the party
    ``node-home`` (whose API key the home node asks its federated where-used with). The home node's peers
    are the regional nodes, each named with the party it delivers as (so the residency audit judges what it
    delivered by its region's policy). ``api_keys`` holds ``node``'s API key on each peer where it has one:
    the home node's on the regional nodes (federated where-used, recall relays), a regional node's on the
    home node (battery health summaries, aggregates)."""
    found = []
    for other in nodes:
        if other.name == node.name or (node.name != HOME and other.name != HOME):
            continue
        peer = {"node": other.name, "region": other.region, "url": f"http://127.0.0.1:{ports[other.name]}",
                "party": webhook_party(other.name)}
        if api_keys and other.name in api_keys:
            peer["apiKey"] = api_keys[other.name]
        found.append(peer)
    return found


def node_environment(node: DemoNode, *, database_url: str, port: int, peers: list[dict[str, str]]) -> dict[str, str]:
    """The ``ROADPASS_*`` settings one node runs with (development: the demo sign-ins exist; no broker, so the
    four nodes do not contend for one MQTT port; deliveries from a thread of the server process)."""
    return {
        "ROADPASS_ENVIRONMENT": "development",
        "ROADPASS_DATABASE_URL": database_url,
        "ROADPASS_HOST": "127.0.0.1",
        "ROADPASS_PORT": str(port),
        "ROADPASS_REGION": node.region,
        "ROADPASS_NODE_ID": node.name,
        "ROADPASS_PEERS": json.dumps(peers),
        "ROADPASS_TELEMATICS_BROKER": "false",
        "ROADPASS_DELIVERY_WORKER": "thread",
    }


@dataclass(slots=True)
class DemoSplit:
    """The fleet's documents per node (each with the master data header where the original had one), and
    how many events were left out because their market's region has no node."""

    documents: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    events: dict[str, int] = field(default_factory=dict)
    left_out: dict[str, int] = field(default_factory=dict)


def _site(event: Mapping[str, Any]) -> str | None:
    """The site of an event: its read point's (else business location's) SGLN without the extension."""
    for name in ("readPoint", "bizLocation"):
        value = event.get(name)
        site = value.get("id") if isinstance(value, Mapping) else None
        if isinstance(site, str) and site.startswith("urn:epc:id:sgln:"):
            return site.rsplit(".", 1)[0]
    return None


def _region_of(event: Mapping[str, Any], sites: Mapping[str, tuple[str, str]]) -> str | None:
    """The market region an event arose in, or None for the build record."""
    site = _site(event)
    if site is None or site not in sites:
        return None
    role, country = sites[site]
    if role not in _MARKET_ROLES or country == "CN":
        return None
    return MARKET_REGIONS.get(country, "unknown")


def split_documents(documents: Iterable[Mapping[str, Any]], sites: Mapping[str, tuple[str, str]],
                    nodes: Iterable[DemoNode] = DEMO_NODES) -> DemoSplit:
    """Each event of ``documents`` to the node that captures it. ``sites`` maps an SGLN without its extension
    to the site's (role, country) (the fleet's master data)."""
    by_region = {node.region: node.name for node in nodes}
    split = DemoSplit()
    for document in documents:
        parts: dict[str, list[dict[str, Any]]] = {}
        for event in document["epcisBody"]["eventList"]:
            region = _region_of(event, sites)
            name = by_region.get(region or "cn-east")
            if name is None:
                split.left_out[str(region)] = split.left_out.get(str(region), 0) + 1
                continue
            parts.setdefault(name, []).append(event)
        # The master data (EPCIS 2.0 §9.2 epcisHeader) names sites and products, not people: every node gets it.
        for name in by_region.values() if "epcisHeader" in document else parts:
            body = {**document, "epcisBody": {"eventList": parts.get(name, [])}}
            split.documents.setdefault(name, []).append(body)
            split.events[name] = split.events.get(name, 0) + len(parts.get(name, []))
    return split
