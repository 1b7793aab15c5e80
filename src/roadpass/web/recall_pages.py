"""The carmaker's recall campaign pages: the campaigns, and one campaign's affected vehicles by market, its
completion curve by market (matplotlib SVG) and the markets past their remedy due date.

The pages show what the API answers, through the same rule (``visible_markets``): a dealer signed in sees
its market's vehicles, an authority its mandate's.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, Response

from roadpass.access.policy import Decision
from roadpass.aftermarket.recalls.service import CampaignNotFound
from roadpass.api.deps import AccessDep, AppDep
from roadpass.api.routes.recalls import viewer_of
from roadpass.web.routes import templates

__all__ = ["mount_recall_pages"]


def mount_recall_pages(app: FastAPI) -> None:
    """Add ``/ui/recalls`` (the campaigns) and ``/ui/recalls/{campaign_key}`` (one campaign)."""

    @app.get("/ui/recalls", response_class=HTMLResponse, include_in_schema=False)
    def recall_list(request: Request, rp: AppDep, access: AccessDep) -> Response:
        found = rp.recalls.campaigns(viewer_of(access))
        return templates.TemplateResponse(request, "recalls.html", {"campaigns": found})

    @app.get("/ui/recalls/{campaign_key}", response_class=HTMLResponse, include_in_schema=False)
    def recall_page(request: Request, campaign_key: str, rp: AppDep, access: AccessDep) -> Response:
        viewer = viewer_of(access)
        try:
            status = rp.recalls.status(campaign_key, viewer)
        except CampaignNotFound:
            decision = access.decision  # ledgered as a refusal, answered as not found (as the API does)
            access.deny(Decision(False, 404, decision.effect, decision.rule,
                                 "the campaign reaches none of the caller's vehicles"))
            return templates.TemplateResponse(request, "recall.html", {"status": None, "key": campaign_key},
                                              status_code=404)
        due = status.campaign.draft
        markets: list[dict[str, Any]] = []
        overdue = {o.market for o in status.overdue}
        for m in status.completion.values():
            markets.append({**m.as_json(), "due": due.market_due.get(m.market, due.dates.get("remedyDueOn", "")),
                            "overdue": m.market in overdue, "pct": round(100 * m.rate, 1)})
        svg = rp.recalls.curve_svg(campaign_key, viewer)
        # matplotlib's SVG starts with an XML declaration and a DOCTYPE; inline SVG in HTML starts at <svg.
        svg = svg[svg.index("<svg"):]
        return templates.TemplateResponse(request, "recall.html", {
            "status": status, "key": campaign_key, "markets": markets, "svg": svg, "totals": status.totals,
            "vehicles": status.states[:100],
        })
