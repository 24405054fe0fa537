"""What converging a profile's config means (pure: no I/O).

The profiles file owns the keys a profile's seed config names (openclaw-compose's defaults and
the user's ``openclaw:`` fragment, :func:`~openclaw_compose.core.contract.seed_config`): every
``up``/``deploy`` sets each of them that differs in the gateway's live ``openclaw.json``, and
unsets each key an earlier run applied that the file no longer names, so that it goes back to
OpenClaw's default. What was applied is recorded next to the config
(:data:`~openclaw_compose.core.contract.APPLIED_PATH`; before the first record, the seed the
container was created with stands for it); keys neither names (set by the user or by
the gateway itself) are never touched. A key is a *leaf*: a scalar, a list (replaced whole, as
``openclaw config patch`` replaces arrays) or an empty object. Values are never shown: a change
names key paths only (a fragment may hold a literal credential; ``${NAME}`` references are
passed as written, and the gateway resolves them).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

Path_ = tuple[str, ...]

_MISSING = object()


def leaves(config: Mapping[str, Any], prefix: Path_ = ()) -> Iterator[tuple[Path_, Any]]:
    """Every leaf of ``config`` with its key path, in document order."""
    for key, value in config.items():
        path = (*prefix, key)
        if isinstance(value, Mapping) and value:
            yield from leaves(value, path)
        else:
            yield path, value


def value_at(config: Any, path: Path_) -> Any:
    """The value at ``path``, or :data:`_MISSING`."""
    node = config
    for key in path:
        if not isinstance(node, Mapping) or key not in node:
            return _MISSING
        node = node[key]
    return node


def dotted(path: Path_) -> str:
    """``path`` as OpenClaw's CLI writes it: dots, and a key holding a dot in brackets."""
    return "".join(
        f'["{key}"]' if "." in key or not key else ("." if i else "") + key
        for i, key in enumerate(path)
    )


def _related(a: Path_, b: Path_) -> bool:
    """True when one path is the other or lies under it."""
    shorter = min(len(a), len(b))
    return a[:shorter] == b[:shorter]


@dataclass(frozen=True)
class ConfigChange:
    """The keys one ``up`` sets and unsets in a profile's live config."""

    sets: tuple[Path_, ...] = ()
    unsets: tuple[Path_, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.sets or self.unsets)

    def describe(self) -> str:
        parts = []
        if self.sets:
            parts.append("set " + ", ".join(dotted(p) for p in self.sets))
        if self.unsets:
            parts.append("unset " + ", ".join(dotted(p) for p in self.unsets))
        return "; ".join(parts) or "no change"

    def to_json(self) -> dict[str, list[str]]:
        return {"set": [dotted(p) for p in self.sets], "unset": [dotted(p) for p in self.unsets]}


def diff(
    desired: Mapping[str, Any], live: Mapping[str, Any] | None, applied: Mapping[str, Any] | None
) -> ConfigChange:
    """What makes ``live`` hold ``desired``: its leaves that differ, and the leaves of
    ``applied`` (the previous run's ``desired``) that ``desired`` no longer names and ``live``
    still holds. ``live`` None (unreadable): every leaf of both."""
    wanted = dict(leaves(desired))
    sets = tuple(
        path for path, value in wanted.items() if live is None or _differs(live, path, value)
    )
    unsets = tuple(
        path
        for path, _ in leaves(applied or {})
        if not any(_related(path, kept) for kept in wanted)
        and (live is None or value_at(live, path) is not _MISSING)
    )
    return ConfigChange(sets, unsets)


def _differs(live: Mapping[str, Any], path: Path_, value: Any) -> bool:
    """True when ``live`` does not hold ``value`` at ``path`` (a ``null`` in the file, which
    ``openclaw config patch`` reads as "delete", is held by an absent key)."""
    current = value_at(live, path)
    return current not in (_MISSING, None) if value is None else current != value


def patch_document(desired: Mapping[str, Any], change: ConfigChange) -> dict[str, Any]:
    """The ``openclaw config patch`` document of ``change``: objects merge, lists and scalars
    replace, ``null`` deletes."""
    patch: dict[str, Any] = {}
    for path, value in [(p, value_at(desired, p)) for p in change.sets] + [
        (p, None) for p in change.unsets
    ]:
        node = patch
        for key in path[:-1]:
            node = node.setdefault(key, {})
        node[path[-1]] = value
    return patch


def parse_config(text: str | None) -> dict[str, Any] | None:
    """A config file's text as an object; None when absent or not plain JSON (OpenClaw's own
    writers write plain JSON; a hand-edited JSON5 file is then patched whole)."""
    if text is None:
        return None
    try:
        data = json.loads(text)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None
