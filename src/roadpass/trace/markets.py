"""Which business steps set the market a unit is in (roadpass policy over CBV 2.0 vocabulary)."""

from __future__ import annotations

__all__ = ["MARKET_BIZ_STEPS"]

# CBV 2.0 §7.2: retail_selling is the point of sale to the end customer; roadpass's own registering step
# (a vehicle registered with the market's authority) also fixes the market. Both expanded to full URIs.
MARKET_BIZ_STEPS: frozenset[str] = frozenset(
    {
        "https://ref.gs1.org/cbv/BizStep-retail_selling",
        "https://roadpass.dev/ns/epcis/registering",
    }
)
