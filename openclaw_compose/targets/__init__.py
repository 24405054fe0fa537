"""The target registry: every kind of generated project, by the name ``--target`` takes.

Names map to modules, imported on first use, so that listing the names (for ``--help``) costs
nothing. Each module exposes ``TARGET``, a
:class:`openclaw_compose.targets.base.Target`. Nothing outside this registry compares target
names: code asks the target object instead.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from openclaw_compose.errors import UsageError

if TYPE_CHECKING:
    from openclaw_compose.targets.base import Target

DEFAULT_TARGET = "compose"
_MODULES = {
    "compose": "openclaw_compose.targets.compose",
    "swarm": "openclaw_compose.targets.swarm",
}


def target_names() -> tuple[str, ...]:
    return tuple(_MODULES)


def get_target(name: str) -> Target:
    """The target called ``name``; :class:`UsageError` (exit 2) for an unknown name."""
    module = _MODULES.get(name)
    if module is None:
        raise UsageError(f"unknown target {name!r}; the targets are: {', '.join(_MODULES)}")
    target: Target = importlib.import_module(module).TARGET
    return target


def all_targets() -> tuple[Target, ...]:
    return tuple(get_target(name) for name in _MODULES)
