"""Plain JSON helpers the passport domain shares: decoding the consortium's files, JSON paths.

The Battery Pass consortium ships most of its generated artefacts as UTF-16 little-endian with a byte-order
mark and CRLF line ends, and a few as UTF-8; :func:`decode_text` accepts every encoding RFC 8259 §8.1
allows a JSON text to arrive in when it carries a BOM, and UTF-8 otherwise.

JSON paths are written the way validators and reports show them to people: ``$.batteryMaterials[0].
batteryMaterialIdentifier``. Patterns over a schema use ``[*]`` for "every item of this array".
"""

from __future__ import annotations

import codecs
import copy
import json
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TypeAlias

from pydantic import JsonValue

__all__ = [
    "JsonObject",
    "JsonValue",
    "decode_text",
    "dumps",
    "format_path",
    "iter_pattern",
    "join_pattern",
    "load_json_file",
    "loads",
    "parse_pattern",
    "set_value",
]

JsonObject: TypeAlias = dict[str, JsonValue]
"""A JSON object as Python holds it after :func:`json.loads` (numbers keep their int/float kind)."""

# (BOM, codec) pairs, longest BOM first so UTF-32LE is not mistaken for UTF-16LE.
_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)

_SEGMENT = re.compile(r"\.([^.\[\]]+)|\[(\*|\d+)\]")
_SIMPLE_NAME = re.compile(r"^[A-Za-z_$][A-Za-z0-9_$]*$")


def decode_text(data: bytes) -> str:
    """Decode a text artefact's bytes: BOM-marked UTF-8/16/32, else UTF-8 (RFC 8259 §8.1 for JSON).

    CRLF line ends need no treatment: CR and LF are both insignificant whitespace between JSON tokens.
    """
    for bom, codec in _BOMS:
        if data.startswith(bom):
            return data[len(bom) :].decode(codec)
    # No BOM: a JSON text starts with an ASCII character, so a zero byte beside it betrays UTF-16
    # (the detection RFC 4627 §3 described).
    if len(data) >= 2 and data[0] == 0 and data[1] != 0:
        return data.decode("utf-16-be")
    if len(data) >= 2 and data[0] != 0 and data[1] == 0:
        return data.decode("utf-16-le")
    return data.decode("utf-8")


def loads(text: str | bytes) -> JsonValue:
    """Parse JSON text (or bytes, decoded by :func:`decode_text`) keeping big integers exact."""
    if isinstance(text, bytes):
        text = decode_text(text)
    value: JsonValue = json.loads(text)
    return value


def dumps(value: JsonValue, *, indent: int | None = 2) -> str:
    """Serialise JSON for people and files; the stdlib encoder keeps integers of any size exact."""
    return json.dumps(value, indent=indent, ensure_ascii=False)


def load_json_file(path: Path) -> JsonValue:
    """Read and parse a JSON file whatever its BOM/encoding (see module docstring)."""
    return loads(path.read_bytes())


def format_path(parts: Iterable[str | int]) -> str:
    """``["a", 0, "b"]`` -> ``$.a[0].b`` (the form every error and report in this package uses).

    A key that is not a plain name (``"a.b"``, ``"x y"``) is written in brackets, RFC 9535 style:
    ``$['a.b']``.
    """
    out = ["$"]
    for part in parts:
        if isinstance(part, int):
            out.append(f"[{part}]")
        elif _SIMPLE_NAME.match(part):
            out.append(f".{part}")
        else:
            escaped = part.replace("\\", "\\\\").replace("'", "\\'")
            out.append(f"['{escaped}']")
    return "".join(out)


def parse_pattern(pattern: str) -> tuple[str, ...]:
    """Split ``$.a[*].b`` into ``("a", "[*]", "b")``; raises :class:`ValueError` naming a bad pattern."""
    if not pattern.startswith("$"):
        raise ValueError(f"JSON path {pattern!r} must start with '$'")
    parts: list[str] = []
    pos = 1
    for match in _SEGMENT.finditer(pattern, 1):
        if match.start() != pos:
            break
        name, index = match.group(1), match.group(2)
        parts.append(name if name is not None else f"[{index}]")
        pos = match.end()
    if pos != len(pattern):
        raise ValueError(f"JSON path {pattern!r} is not of the form $.name[*].name")
    return tuple(parts)


def join_pattern(parts: Iterable[str]) -> str:
    """The inverse of :func:`parse_pattern`: ``("a", "[*]", "b")`` -> ``$.a[*].b``."""
    return "$" + "".join(p if p.startswith("[") else f".{p}" for p in parts)


def iter_pattern(value: JsonValue, parts: tuple[str, ...]) -> Iterator[JsonValue]:
    """Every value the pattern reaches inside ``value`` (``[*]`` fans out over an array's items)."""
    if not parts:
        yield value
        return
    head, rest = parts[0], parts[1:]
    if head == "[*]":
        if isinstance(value, list):
            for item in value:
                yield from iter_pattern(item, rest)
    elif head.startswith("["):
        index = int(head[1:-1])
        if isinstance(value, list) and index < len(value):
            yield from iter_pattern(value[index], rest)
    elif isinstance(value, dict) and head in value:
        yield from iter_pattern(value[head], rest)


def set_value(document: JsonObject, pattern: str, value: JsonValue) -> JsonObject:
    """A copy of ``document`` with ``value`` at the concrete path ``pattern`` (no ``[*]``).

    Missing containers on the way are created (an object, or an array before an index); an index equal
    to the array's length appends. Raises :class:`ValueError` naming the path when the document's shape
    does not allow the write.
    """
    parts = parse_pattern(pattern)
    if not parts or "[*]" in parts:
        raise ValueError(f"{pattern}: a write needs a concrete path below $")
    result = copy.deepcopy(document)
    node: JsonValue = result
    for depth, part in enumerate(parts):
        here = format_path(_concrete(parts[:depth]))
        following = parts[depth + 1] if depth + 1 < len(parts) else None
        empty: JsonValue = [] if following is not None and following.startswith("[") else {}
        if part.startswith("["):
            index = int(part[1:-1])
            if not isinstance(node, list) or index > len(node):
                raise ValueError(f"{here}: no array item [{index}] to write (an index may append, not skip)")
            if index == len(node):
                node.append(empty if following is not None else value)
            if following is None:
                node[index] = value
            node = node[index]
        else:
            if not isinstance(node, dict):
                raise ValueError(f"{here}: expected an object to hold {part!r}")
            if following is None:
                node[part] = value
            node = node.setdefault(part, empty)
    return result


def _concrete(parts: tuple[str, ...]) -> list[str | int]:
    return [int(p[1:-1]) if p.startswith("[") else p for p in parts]
