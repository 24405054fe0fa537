"""A profile's ``openclaw:`` fragment against OpenClaw's own JSON schema (pure: no I/O).

The schema is what ``openclaw config schema --json`` prints for the profile's release (draft 07,
every definition inline). The walk refuses what a typo or a wrong value makes: an unknown key
(``additionalProperties: false``), a wrong type, a value outside an ``enum``/``const``. Key sets
of a partial object are not required to be complete (the fragment is merged into a config that
may hold the rest), and value bounds and patterns are left to OpenClaw (``config patch``
validates the whole result before it writes). An unknown key gets the closest known one as a
suggestion (:mod:`difflib`).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

_TYPES: dict[str, tuple[type, ...]] = {
    "object": (dict,),
    "array": (list,),
    "string": (str,),
    "boolean": (bool,),
    "integer": (int,),
    "number": (int, float),
    "null": (type(None),),
}


@dataclass(frozen=True)
class FragmentIssue:
    """One thing OpenClaw's schema refuses: the key path in the fragment and why."""

    path: tuple[str | int, ...]
    message: str


def fragment_issues(
    value: Any, schema: Mapping[str, Any], path: tuple[str | int, ...] = ()
) -> list[FragmentIssue]:
    """What ``schema`` refuses in ``value`` (empty: valid)."""
    return list(_walk(value, schema, path))


def _walk(value: Any, schema: Any, path: tuple[str | int, ...]) -> Iterator[FragmentIssue]:
    if not isinstance(schema, Mapping):
        return  # ``true``: anything
    branches = schema.get("anyOf") or schema.get("oneOf")
    if branches:
        yield from _branches(value, branches, path)
        return
    for branch in schema.get("allOf", ()):
        yield from _walk(value, branch, path)
    if "type" in schema and not _typed(value, schema["type"]):
        yield FragmentIssue(path, f"must be {_type_name(schema['type'])}, not {_kind(value)}")
        return
    if "const" in schema and value != schema["const"]:
        yield FragmentIssue(path, f"must be {schema['const']!r}")
        return
    if "enum" in schema and value not in schema["enum"]:
        yield FragmentIssue(path, f"must be one of {', '.join(map(repr, schema['enum']))}")
        return
    if isinstance(value, dict):
        yield from _object(value, schema, path)
    elif isinstance(value, list) and isinstance(schema.get("items"), Mapping):
        for index, item in enumerate(value):
            yield from _walk(item, schema["items"], (*path, index))


def _object(
    value: Mapping[str, Any], schema: Mapping[str, Any], path: tuple[str | int, ...]
) -> Iterator[FragmentIssue]:
    properties: Mapping[str, Any] = schema.get("properties", {})
    extra = schema.get("additionalProperties", True)
    for key, item in value.items():
        if key in properties:
            yield from _walk(item, properties[key], (*path, key))
        elif extra is False:
            close = difflib.get_close_matches(key, list(properties), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            yield FragmentIssue((*path, key), f"unknown key{hint}")
        else:
            yield from _walk(item, extra, (*path, key))


def _branches(
    value: Any, branches: list[Any], path: tuple[str | int, ...]
) -> Iterator[FragmentIssue]:
    """Valid when one branch accepts ``value``; else the issues of the branch of its type that
    goes deepest (the one the user most likely meant)."""
    found = [list(_walk(value, branch, path)) for branch in branches]
    if any(not issues for issues in found):
        return
    pairs = [
        (branch, issues)
        for branch, issues in zip(branches, found, strict=True)
        if not isinstance(branch, Mapping) or _typed(value, branch.get("type"))
    ]
    typed = [issues for _, issues in pairs]
    allowed = [
        choice
        for branch, _ in pairs
        if isinstance(branch, Mapping)
        for choice in ([branch["const"]] if "const" in branch else branch.get("enum", []))
    ]
    if allowed and all(issue.path == path for issues in typed for issue in issues):
        yield FragmentIssue(path, f"must be one of {', '.join(map(repr, allowed))}")
        return
    if not typed:
        kinds = [b.get("type") for b in branches if isinstance(b, Mapping) and "type" in b]
        names = " or ".join(dict.fromkeys(_type_name(kind) for kind in kinds)) or "another value"
        yield FragmentIssue(path, f"must be {names}, not {_kind(value)}")
        return
    yield from max(typed, key=lambda issues: max(len(i.path) for i in issues))


def _typed(value: Any, kind: Any) -> bool:
    if kind is None:
        return True
    kinds = kind if isinstance(kind, list) else [kind]
    for name in kinds:
        if isinstance(value, bool) and name not in ("boolean",):
            continue
        if name == "integer" and isinstance(value, float) and value.is_integer():
            return True
        if isinstance(value, _TYPES.get(name, object)):
            return True
    return False


def _type_name(kind: Any) -> str:
    kinds = kind if isinstance(kind, list) else [kind]
    return " or ".join(f"{'an' if str(k)[0] in 'aeiou' else 'a'} {k}" for k in kinds)


def _kind(value: Any) -> str:
    for name, types in _TYPES.items():
        if (
            name != "number"
            and isinstance(value, types)
            and not (isinstance(value, bool) and name == "integer")
        ):
            return f"{'an' if name[0] in 'aeiou' else 'a'} {name}"
    return type(value).__name__
