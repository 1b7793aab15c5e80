"""Load YAML into JSON-compatible data while remembering the line of every node.

Regulation packs are validated against a JSON Schema, whose errors carry a JSON path. To refuse a broken
pack with the *line* at fault, the document is composed into PyYAML nodes (which carry start marks) and
converted by hand, recording ``path -> (line, column)`` for every mapping, sequence and scalar. Dates and
timestamps are kept as ISO strings so the data stays JSON-compatible; duplicate keys, aliases of merge keys
and multi-document streams are refused, also with their line.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, TypeAlias

import yaml

__all__ = ["JsonPath", "Marks", "YamlLoadError", "line_of", "load_marked"]

JsonPath: TypeAlias = tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class Mark:
    """A 1-based line and column in the source text."""

    line: int
    column: int


Marks: TypeAlias = dict[JsonPath, Mark]


class YamlLoadError(ValueError):
    """The text is not one well-formed YAML document; names the line and the reason."""

    def __init__(self, line: int, column: int, reason: str) -> None:
        self.line = line
        self.column = column
        self.reason = reason
        super().__init__(f"line {line}, column {column}: {reason}")


def _mark(node: yaml.Node) -> Mark:
    return Mark(node.start_mark.line + 1, node.start_mark.column + 1)


class _Builder:
    def __init__(self) -> None:
        self.marks: Marks = {}
        self._constructor = yaml.SafeLoader("")
        self._open: set[int] = set()

    def build(self, node: yaml.Node, path: JsonPath) -> Any:
        self.marks[path] = _mark(node)
        if isinstance(node, yaml.MappingNode | yaml.SequenceNode):
            if id(node) in self._open:
                raise YamlLoadError(*_pos(node), "recursive alias")
            self._open.add(id(node))
            try:
                return self._collection(node, path)
            finally:
                self._open.discard(id(node))
        return self._scalar(node)

    def _collection(self, node: yaml.Node, path: JsonPath) -> Any:
        if isinstance(node, yaml.MappingNode):
            result: dict[str, Any] = {}
            for key_node, value_node in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    raise YamlLoadError(*_pos(key_node), "merge keys ('<<') are not supported")
                key = self._scalar(key_node)
                if not isinstance(key, str):
                    key = str(key)
                if key in result:
                    raise YamlLoadError(*_pos(key_node), f"duplicate key {key!r}")
                result[key] = self.build(value_node, (*path, key))
            return result
        return [self.build(item, (*path, i)) for i, item in enumerate(node.value)]

    def _scalar(self, node: yaml.Node) -> Any:
        if not isinstance(node, yaml.ScalarNode):
            raise YamlLoadError(*_pos(node), "a mapping key must be a plain scalar")
        value = self._constructor.construct_object(node, deep=True)
        if isinstance(value, dt.datetime):
            return value.isoformat()
        if isinstance(value, dt.date):
            return value.isoformat()
        if isinstance(value, bytes):
            raise YamlLoadError(*_pos(node), "binary scalars are not supported")
        return value


def _pos(node: yaml.Node) -> tuple[int, int]:
    mark = _mark(node)
    return mark.line, mark.column


def load_marked(text: str) -> tuple[Any, Marks]:
    """Parse one YAML document into JSON-compatible data and a map from JSON path to source position."""
    try:
        nodes = list(yaml.compose_all(text, Loader=yaml.SafeLoader))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
        raise YamlLoadError(line, column, str(exc.problem or exc.context or "malformed YAML")) from None
    except yaml.YAMLError as exc:
        raise YamlLoadError(1, 1, str(exc)) from None
    if not nodes:
        raise YamlLoadError(1, 1, "the document is empty")
    if len(nodes) > 1:
        raise YamlLoadError(*_pos(nodes[1]), "only one YAML document per file is allowed")
    builder = _Builder()
    data = builder.build(nodes[0], ())
    return data, builder.marks


def line_of(marks: Marks, path: JsonPath) -> Mark:
    """The position of ``path``, or of its nearest ancestor that exists in the document."""
    probe = tuple(path)
    while probe not in marks and probe:
        probe = probe[:-1]
    return marks.get(probe, Mark(1, 1))
