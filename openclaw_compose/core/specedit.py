"""Changing a few keys of a user's profiles file in place: byte for byte the user's file except
the changed scalars.

``upgrade`` records the version each profile runs here, so that the file stays the truth: a
later ``up`` starts every gateway on the image it was upgraded to, never back on the old one.

The file is never dumped again: the YAML parser's events give the span of every scalar, and an
edit replaces that span in the original text (a new key is one inserted line, or ``, key: value``
in a flow mapping; a removed key is its line, or its ``key: value`` and one comma). Comments,
blank lines, quoting, flow mappings and line wrapping elsewhere stay exactly as written.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError
from ruamel.yaml.events import (
    AliasEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
)

from openclaw_compose.errors import OutputError

NEW_STYLE = '"'
"""A new key's string value is double-quoted (a version such as 2026.10 is no number then)."""

Changes = Mapping[str, Any | None]
"""Key -> new value (a string, number or boolean); None removes the key."""


def edit_spec_file(path: Path, top: Changes, profiles: Mapping[str, Changes] | None = None) -> None:
    """Set (or, for None, remove) top-level keys and keys of named profiles; atomic."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise OutputError(f"{path}: cannot be read: {exc.strerror}") from None
    edited = edit_text(text, top, profiles or {})
    if edited != text:
        _replace(path, lambda stream: stream.write(edited))


def edit_text(text: str, top: Changes, profiles: Mapping[str, Changes]) -> str:
    """``text`` with the changes made, everything else kept as it is."""
    for name, changes in profiles.items():
        for key, value in changes.items():
            text = _edit(text, ("profiles", name), key, value)
    for key, value in top.items():
        text = _edit(text, (), key, value)
    return text


def put_back(path: Path, text: str) -> None:
    """Write ``text`` (the file as it was read before an edit) back, atomically."""
    _replace(path, lambda stream: stream.write(text))


def _replace(path: Path, write: Callable[[IO[str]], object]) -> None:
    """Replace ``path`` by what ``write`` writes, atomically, keeping its mode."""
    fd, staged = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as stream:
            write(stream)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(staged, path.stat().st_mode & 0o777)
        os.replace(staged, path)
    except OSError as exc:
        Path(staged).unlink(missing_ok=True)
        raise OutputError(f"{path}: cannot be written: {exc.strerror}") from None


@dataclass
class _Entry:
    key_start: int
    value_start: int
    value_end: int
    scalar: bool
    style: str | None


@dataclass
class _Mapping:
    flow: bool
    end: int = -1
    """Flow: the index of its closing brace."""
    entries: dict[str, _Entry] = field(default_factory=dict)


def _mappings(text: str) -> dict[tuple[str, ...], _Mapping]:
    """Every mapping of the document by its key path, with its keys' and values' spans."""
    found: dict[tuple[str, ...], _Mapping] = {}
    stack: list[tuple[tuple[str, ...], _Mapping | None, list[Any]]] = []
    # Each frame: its path, its mapping (None for a sequence), [pending key, key start].

    def value(event: Any, end: int, scalar: bool) -> tuple[str, ...] | None:
        """Record a value that starts with ``event``; the path it opens, if any."""
        if not stack:
            return ()
        path, mapping, pending = stack[-1]
        if mapping is None:
            return None
        key, key_start = pending
        pending[:] = [None, -1]
        style = getattr(event, "style", None)
        mapping.entries[key] = _Entry(key_start, event.start_mark.index, end, scalar, style)
        return (*path, key)

    try:
        for event in YAML(typ="rt").parse(text):
            if isinstance(event, ScalarEvent | AliasEvent):
                frame = stack[-1] if stack else None
                if frame and frame[1] is not None and frame[2][0] is None:
                    frame[2][:] = [str(getattr(event, "value", "")), event.start_mark.index]
                else:
                    value(event, event.end_mark.index, isinstance(event, ScalarEvent))
            elif isinstance(event, MappingStartEvent):
                path = value(event, -1, False)
                mapping = _Mapping(bool(event.flow_style))
                if path is not None:
                    found[path] = mapping
                stack.append((path or (), mapping, [None, -1]))
            elif isinstance(event, SequenceStartEvent):
                value(event, -1, False)
                stack.append(((), None, [None, -1]))
            elif isinstance(event, MappingEndEvent | SequenceEndEvent):
                closed = stack.pop()[1]
                if closed is not None:
                    closed.end = event.start_mark.index
    except YAMLError as exc:
        raise OutputError(f"the profiles file cannot be edited: {exc}") from None
    return found


def _edit(text: str, path: tuple[str, ...], key: str, value: Any | None) -> str:
    mapping = _mappings(text).get(path)
    if mapping is None:
        raise OutputError(f"the profiles file has no mapping {'.'.join(path) or 'at the top'}")
    entry = mapping.entries.get(key)
    if entry is not None and not entry.scalar:
        raise OutputError(f"{'.'.join((*path, key))}: not a scalar; cannot be changed in place")
    if value is None:
        return text if entry is None else _remove(text, mapping, entry)
    if entry is not None:
        rendered = _scalar(value, entry.style)
        return text[: entry.value_start] + rendered + text[entry.value_end :]
    return _insert(text, mapping, not path, f"{key}: {_scalar(value, NEW_STYLE)}")


def _remove(text: str, mapping: _Mapping, entry: _Entry) -> str:
    if mapping.flow:
        start, end = entry.key_start, entry.value_end
        after = text[end:].lstrip(" \t")
        if after.startswith(","):
            end = len(text) - len(after) + 1
            end += len(text[end:]) - len(text[end:].lstrip(" \t"))
        else:
            before = text[:start].rstrip(" \t\n")
            if before.endswith(","):
                start = len(before) - 1
        return text[:start] + text[end:]
    start = text.rfind("\n", 0, entry.key_start) + 1
    newline = text.find("\n", entry.value_end)
    end = len(text) if newline < 0 else newline + 1
    return text[:start] + text[end:]


def _insert(text: str, mapping: _Mapping, top: bool, item: str) -> str:
    if mapping.flow:
        inside = text[: mapping.end].rstrip(" \t\n")
        separator = "" if inside.endswith("{") else ", "
        return inside + separator + item + text[len(inside) :]
    entries = list(mapping.entries.items())
    first = entries[0][1]
    indent = first.key_start - (text.rfind("\n", 0, first.key_start) + 1)
    line = " " * indent + item + "\n"
    # At the top level before 'profiles'; in a profile after its last key with a scalar value.
    names = [name for name, _ in entries]
    if top and "profiles" in names:
        entries = entries[: names.index("profiles")]
    scalars = [entry for _, entry in entries if entry.scalar]
    if not scalars:
        at = text.rfind("\n", 0, first.key_start) + 1
        return text[:at] + line + text[at:]
    newline = text.find("\n", scalars[-1].value_end)
    if newline < 0:
        return text + "\n" + line
    return text[: newline + 1] + line + text[newline + 1 :]


def _scalar(value: Any, style: str | None) -> str:
    """``value`` as YAML, in the quoting the replaced scalar had where that can hold it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    text = str(value)
    if style == "'" and "\n" not in text:
        return "'" + text.replace("'", "''") + "'"
    if not style and _plain(text):
        return text
    return json.dumps(text, ensure_ascii=False)


def _plain(text: str) -> bool:
    """True when ``text`` reads back as the same string unquoted."""
    if not text or text != text.strip() or any(c in text for c in ":#{}[],&*!|>'\"%@`\n"):
        return False
    try:
        return bool(YAML(typ="safe").load(text) == text)
    except YAMLError:
        return False
