"""A small, deterministic YAML emitter for the documents openclaw-compose writes.

Generated files must be byte-for-byte reproducible and fast to produce for hundreds of
profiles. The documents are plain trees of dicts, lists, strings, numbers, bools and nulls, so a few
lines suffice: block style, keys in insertion order, and every string that YAML could read as
anything but that string written as a JSON (= YAML double-quoted) scalar.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

_PLAIN = re.compile(r"[A-Za-z_/][A-Za-z0-9_./-]*")
_ASTRAL = re.compile("[\U00010000-\U0010ffff]")
"""Characters beyond U+FFFF: JSON escapes them as two surrogates, which YAML reads as two."""
_YAML_WORDS = frozenset({"y", "n", "yes", "no", "on", "off", "true", "false", "null"})


def scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float) and math.isfinite(value):
        return repr(value)  # 1.5, 2.0, 1e+20: YAML 1.2 floats, read back as the same value
    if value is None:
        return "null"
    if isinstance(value, str):
        if _PLAIN.fullmatch(value) and value.lower() not in _YAML_WORDS:
            return value
        return _quoted(value)
    raise TypeError(f"cannot emit {type(value).__name__} as a YAML scalar")


def _quoted(value: str) -> str:
    """A JSON (= YAML double-quoted) scalar, with YAML's one ``\\UXXXXXXXX`` escape for each
    character beyond U+FFFF."""
    pieces = [json.dumps(piece)[1:-1] for piece in _ASTRAL.split(value)]
    escapes = [f"\\U{ord(char):08x}" for char in _ASTRAL.findall(value)]
    return '"' + "".join(p + e for p, e in zip(pieces, [*escapes, ""], strict=True)) + '"'


def _lines(value: Any, indent: str) -> Iterator[str]:
    if isinstance(value, Mapping):
        for key, item in value.items():
            head = f"{indent}{scalar(key)}:"
            if isinstance(item, Mapping | list) and item:
                yield head
                yield from _lines(item, indent + "  ")
            else:
                yield f"{head} {_inline(item)}"
    else:
        for item in value:
            if isinstance(item, Mapping | list) and item:
                first, *rest = _lines(item, indent + "  ")
                yield f"{indent}- {first.lstrip()}"
                yield from rest
            else:
                yield f"{indent}- {_inline(item)}"


def _inline(value: Any) -> str:
    """A scalar, or an empty mapping or list (the others are blocks)."""
    if isinstance(value, Mapping):
        return "{}"
    if isinstance(value, list):
        return "[]"
    return scalar(value)


def emit(document: Mapping[str, Any] | Sequence[Any]) -> str:
    """The YAML text of ``document``, ending in a newline."""
    return "".join(line + "\n" for line in _lines(document, ""))
