"""The ValueOnly serialisation of a submodel (``GET /submodels/{id}/$value``).

IDTA-01002-3 HTTP/REST API (design decisions: Content="Value" is the path suffix ``/$value``, an unnamed
JSON object), with the value-only serialisation in JSON of AAS Part 1 (IDTA-01001, mappings): a
collection is an object keyed by idShort, a list is an array, a property is its value as a JSON string,
number or boolean by its value type, a multi-language property an array of ``{language: text}`` objects,
a file ``{"contentType", "value"}``.
"""

from __future__ import annotations

from decimal import Decimal

from basyx.aas import model

from roadpass.passport.jsondata import JsonObject, JsonValue

__all__ = ["element_value", "submodel_value"]


def _property(prop: model.Property) -> JsonValue:
    value = prop.value
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value
    if isinstance(value, Decimal):
        return float(value)
    return model.datatypes.xsd_repr(value)


def element_value(element: model.SubmodelElement) -> JsonValue:
    """The value-only form of one submodel element."""
    if isinstance(element, model.Property):
        return _property(element)
    if isinstance(element, model.MultiLanguageProperty):
        return [{lang: text} for lang, text in (element.value or {}).items()]
    if isinstance(element, model.File):
        return {"contentType": element.content_type, "value": element.value}
    if isinstance(element, model.SubmodelElementCollection):
        return {str(child.id_short): element_value(child) for child in element.value}
    if isinstance(element, model.SubmodelElementList):
        return [element_value(item) for item in element.value]
    return None


def submodel_value(submodel: model.Submodel) -> JsonObject:
    """The value-only form of a submodel: ``{idShort: value}`` of its elements."""
    return {str(e.id_short): element_value(e) for e in submodel.submodel_element}
