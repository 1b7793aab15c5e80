"""The MQTT topic layout: ``roadpass/units/{unit}/vss`` and ``roadpass/units/{unit}/software``.

``{unit}`` is the telematics unit's canonical key (the trace store's GS1 Digital Link URI) written MQTT-safe.
MQTT 3.1.1 §4.7.1: ``/`` separates topic levels and ``+`` / ``#`` are wildcards that a published topic must
not contain, so the key is shortened (the GS1 resolver host dropped) and escaped reversibly: ``%``, ``~``,
``+`` and ``#`` are percent-encoded and each ``/`` becomes ``~`` (GS1 General Specifications §7.11, AI
encodable character set 82, has no ``~``, so a GS1 key never needs the escape).
"""

from __future__ import annotations

import contextlib
import re
from typing import Final, Literal
from urllib.parse import unquote

from roadpass.trace.identifiers import canonical_id

__all__ = ["PREFIX", "SUBSCRIPTION", "TopicError", "parse_topic", "topic", "unit_key", "unit_segment"]

PREFIX: Final = "roadpass/units/"
#: What roadpass's own account subscribes to.
SUBSCRIPTION: Final = "roadpass/units/+/+"
_GS1_HOST: Final = "https://id.gs1.org/"
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
Suffix = Literal["vss", "software"]
_SUFFIXES: Final = ("vss", "software")


class TopicError(ValueError):
    """A topic outside the layout (the reason says which part)."""


def unit_segment(key: str) -> str:
    """The MQTT-safe topic level of a unit's canonical key (see the module docstring)."""
    if key.startswith(("urn:epc:id:", "http://", "https://")):
        with contextlib.suppress(ValueError):  # not a GS1 key: kept as given
            key = canonical_id(key)
    short = key[len(_GS1_HOST):] if key.startswith(_GS1_HOST) else key
    escaped = short.replace("%", "%25").replace("~", "%7E").replace("+", "%2B").replace("#", "%23")
    return escaped.replace("/", "~")


def unit_key(segment: str) -> str:
    """The canonical key a topic level names (inverse of :func:`unit_segment`)."""
    if not segment or "/" in segment:
        raise TopicError(f"unit level {segment!r}: empty or holds '/'")
    short = unquote(segment.replace("~", "/"))
    return short if _SCHEME.match(short) else _GS1_HOST + short


def topic(key: str, suffix: Suffix = "vss") -> str:
    """The topic a unit publishes ``suffix`` data on."""
    return f"{PREFIX}{unit_segment(key)}/{suffix}"


def parse_topic(name: str) -> tuple[str, str]:
    """``(unit segment, suffix)`` of a topic under :data:`PREFIX`; :class:`TopicError` otherwise."""
    if not name.startswith(PREFIX):
        raise TopicError(f"topic {name!r} is not under {PREFIX}")
    parts = name[len(PREFIX):].split("/")
    if len(parts) != 2 or not parts[0]:
        raise TopicError(f"topic {name!r}: expected {PREFIX}{{unit}}/{{vss|software}}")
    if parts[1] not in _SUFFIXES:
        raise TopicError(f"topic {name!r}: unknown suffix {parts[1]!r} (vss or software)")
    return parts[0], parts[1]
