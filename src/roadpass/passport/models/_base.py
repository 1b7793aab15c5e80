"""Hand-written base of the generated section models (the generator leaves this file alone).

Every generated model accepts both its Python field names and the consortium's property names (upstream
spelling, typos included), keeps properties the schema does not declare (``extra="allow"``), and
serialises back under the consortium's names, so ``parse -> to_payload`` returns the payload it was given.
"""

from __future__ import annotations

from typing import TypeAlias

from pydantic import BaseModel, ConfigDict, StrictFloat, StrictInt

from roadpass.passport.jsondata import JsonObject

__all__ = ["JsonNumber", "SectionModel"]

JsonNumber: TypeAlias = StrictInt | StrictFloat
"""JSON Schema ``number``: an int stays an int (``expectedNumberOfCycles`` carries 64-bit values that a
float would round), a float stays a float, and a boolean is refused as draft-04 refuses it."""


class SectionModel(BaseModel):
    """Base of every model generated from a Battery Pass v1.2 schema."""

    model_config = ConfigDict(
        extra="allow",
        validate_by_name=True,
        validate_by_alias=True,
        serialize_by_alias=True,
    )

    def to_payload(self) -> JsonObject:
        """The consortium-format JSON object: upstream property names, only what was set, extras kept."""
        return self.model_dump(mode="json", by_alias=True, exclude_unset=True)
