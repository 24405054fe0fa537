"""Limits on a profiles file, checked on the YAML event stream before any object is built.

The event parser (libyaml, iterative) is safe on any input; building objects is not: ruamel's C
composer recurses once per nesting level and crashes the interpreter on deep nesting, and aliases
let a few hundred bytes stand for billions of nodes (an "alias bomb") that validation and the
seed files would then expand. So the events are read first, and the file is refused when it
nests too deep, when its aliases expand to too many nodes, or when it holds anything that is not
faithfully JSON (the seed configs are JSON): merge keys, dates, binary, sets, other tags,
infinite or NaN floats, keys that are not strings.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.events import (
    AliasEvent,
    CollectionStartEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
)
from ruamel.yaml.nodes import ScalarNode

MAX_BYTES = 16 * 1024 * 1024
"""A profiles file of 5,000 profiles is well under 1 MiB."""
MAX_DEPTH = 64
"""OpenClaw's config nests about 6 levels; the C composer crashes somewhere past 10,000."""
MAX_NODES = 1_000_000
"""Nodes after expanding every alias (5,000 profiles with fragments are about 100,000)."""

_YAML = "tag:yaml.org,2002:"
_JSON_TAGS = frozenset(f"{_YAML}{kind}" for kind in ("str", "int", "float", "bool", "null"))
_COLLECTION_TAGS = frozenset({f"{_YAML}map", f"{_YAML}seq"})
_NOT_JSON = {
    f"{_YAML}merge": "a merge key '<<' is not supported: write the keys out",
    f"{_YAML}timestamp": "a date or time is not JSON: put it in quotes to keep it as text",
}


class ScanError(Exception):
    """What is wrong with the file and the 1-based line where it is."""

    def __init__(self, message: str, line: int | None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line


@dataclass
class _Open:
    """A collection being read: how many nodes it holds so far (itself included)."""

    anchor: str | None
    mapping: bool
    nodes: int = 1
    items: int = 0


def scan(text: str) -> None:
    """Raise :class:`ScanError` unless ``text`` is within the limits and JSON-faithful."""
    if len(text) > MAX_BYTES:
        raise ScanError(f"the file is larger than {MAX_BYTES // (1024 * 1024)} MiB", None)
    yaml = YAML(typ="safe")
    scanner = _Scanner(yaml.resolver)
    for event in yaml.parse(text):
        scanner.feed(event, event.start_mark.line + 1)


class _Scanner:
    def __init__(self, resolver: Any) -> None:
        self.resolver = resolver
        self.sizes: dict[str, int] = {}
        """Expanded node count of every anchored node, for the aliases to it."""
        self.stack: list[_Open] = []
        self.total = 0

    def feed(self, event: Any, line: int) -> None:
        if isinstance(event, CollectionStartEvent):
            _key_position(self.stack, None, line)
            if event.tag is not None and event.tag != "!" and event.tag not in _COLLECTION_TAGS:
                raise ScanError(f"the tag {event.tag} is not supported (plain JSON only)", line)
            self._add(1, line)
            self.stack.append(_Open(event.anchor, isinstance(event, MappingStartEvent)))
            if len(self.stack) > MAX_DEPTH:
                raise ScanError(f"nested deeper than {MAX_DEPTH} levels", line)
        elif isinstance(event, MappingEndEvent | SequenceEndEvent):
            closed = self.stack.pop()
            if closed.anchor is not None:
                self.sizes[closed.anchor] = closed.nodes
            self._into_parent(closed.nodes)
        elif isinstance(event, AliasEvent):
            _key_position(self.stack, None, line)
            nodes = self.sizes.get(event.anchor, 1)
            self._add(nodes, line)
            self._into_parent(nodes)
        elif isinstance(event, ScalarEvent):
            _key_position(self.stack, _scalar_tag(self.resolver, event, line), line)
            if event.anchor is not None:
                self.sizes[event.anchor] = 1
            self._add(1, line)
            self._into_parent(1)

    def _add(self, nodes: int, line: int) -> None:
        """Count ``nodes`` new values of the expanded document (each value once)."""
        self.total += nodes
        if self.total > MAX_NODES:
            raise ScanError(
                f"the file expands to more than {MAX_NODES:,} values (aliases included)", line
            )

    def _into_parent(self, nodes: int) -> None:
        """A finished item of the collection being read: its size, for aliases to that."""
        if self.stack:
            self.stack[-1].nodes += nodes
            self.stack[-1].items += 1


def _scalar_tag(resolver: Any, event: ScalarEvent, line: int) -> str:
    if event.tag is not None and event.tag != "!":
        tag: str = event.tag
        if tag not in _JSON_TAGS:
            raise ScanError(f"the tag {tag} is not supported (plain JSON values only)", line)
        implicit = str(resolver.resolve(ScalarNode, event.value, (True, False)))
        if tag not in (f"{_YAML}str", implicit):
            raise ScanError(f"{event.value!r} is not a valid {tag.removeprefix(_YAML)}", line)
    elif event.implicit[0]:
        tag = _fast_tag(event.value) or str(
            resolver.resolve(ScalarNode, event.value, (True, False))
        )
    else:
        return f"{_YAML}str"
    if tag in _NOT_JSON:
        raise ScanError(f"{event.value!r}: {_NOT_JSON[tag]}", line)
    if tag == f"{_YAML}float" and not _finite(event.value):
        raise ScanError(f"{event.value!r}: infinity and NaN are not JSON numbers", line)
    return tag


_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_/-]*")
_DIGITS = re.compile(r"[1-9][0-9]{0,17}|0")
_RESOLVER_WORDS = frozenset({"true", "false", "null", "yes", "no", "on", "off", "y", "n"})


def _fast_tag(value: str) -> str | None:
    """Most scalars of a profiles file are names and ports: known without the resolver's
    regular expressions (which made the scan as slow as the load itself)."""
    if _DIGITS.fullmatch(value):
        return f"{_YAML}int"
    if _WORD.fullmatch(value) and value.lower() not in _RESOLVER_WORDS:
        return f"{_YAML}str"
    return None


def _finite(value: str) -> bool:
    try:
        return math.isfinite(float(value.replace("_", "")))
    except ValueError:
        return value.lower().lstrip("+-") not in {".inf", ".nan"}


def _key_position(stack: list[_Open], tag: str | None, line: int) -> None:
    """Mapping keys must be strings (``tag`` is None for a collection or an alias): JSON has
    no other keys."""
    if not stack or not stack[-1].mapping or stack[-1].items % 2:
        return
    if tag != f"{_YAML}str":
        raise ScanError("a mapping key must be a string (put it in quotes)", line)
