"""A gateway container's process, memory and CPU limits: the profiles file's ``resources:``
and the defaults it overrides (pure: no I/O).

Sizes are Docker's (``docker run --memory``): a number with an optional unit ``b``, ``k``,
``m``, ``g`` or ``t`` (powers of 1024, case-insensitive, ``kb``/``mb``/``gb``/``tb`` too).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictFloat, StrictInt

_SIZE = re.compile(r"([0-9]+(?:\.[0-9]+)?)\s*([bkmgt]?)b?", re.IGNORECASE)
_UNITS = {"": 1, "b": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}
MIN_MEMORY = 64 << 20
"""Below this a gateway cannot even start (one takes about 700 MiB); Docker's own floor is 6 MiB."""
MIN_PIDS = 64
"""A gateway alone runs about 40 tasks (threads count): fewer would never start."""
MAX_CPUS = 1024.0


def size_bytes(text: str) -> int:
    """Bytes of a Docker-style size (``512m``, ``2g``, ``1.5G``); ValueError when it is not one."""
    match = _SIZE.fullmatch(text.strip())
    if match is None:
        raise ValueError(
            f"{text!r} is not a size: use a number with an optional unit b, k, m, g or t "
            "(powers of 1024), e.g. 512m or 2g"
        )
    number, unit = match.groups()
    return int(float(number) * _UNITS[unit.lower()])


def format_size(size: int) -> str:
    """``size`` bytes in the largest unit that divides it (``2147483648`` -> ``2g``)."""
    for unit in ("t", "g", "m", "k"):
        if size % _UNITS[unit] == 0 and size >= _UNITS[unit]:
            return f"{size // _UNITS[unit]}{unit}"
    return f"{size}b"


def _memory(text: str) -> str:
    size = size_bytes(text)
    if size < MIN_MEMORY:
        raise ValueError(f"memory {text!r} is below {format_size(MIN_MEMORY)}: no gateway starts")
    return format_size(size)


Memory = Annotated[str, AfterValidator(_memory)]


class Resources(BaseModel):
    """``resources:`` of a profile; what it leaves out comes from the defaults."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    memory: Memory | None = Field(
        default=None,
        description="Memory limit of the gateway's container, a Docker size such as 3g or "
        "1536m (no swap beyond it, on the compose target).",
    )
    cpus: Annotated[StrictFloat, Field(gt=0, le=MAX_CPUS)] | None = Field(
        default=None, description="CPU limit, in CPUs (1.5: one and a half)."
    )
    pids: Annotated[StrictInt, Field(ge=MIN_PIDS)] | None = Field(
        default=None, description="Most processes and threads the container may hold at once."
    )


@dataclass(frozen=True, slots=True)
class Limits:
    """The limits a gateway's container runs with."""

    memory: int
    """Bytes."""
    cpus: float
    pids: int

    def memory_text(self) -> str:
        return format_size(self.memory)

    def cpus_text(self) -> str:
        return f"{self.cpus:g}"


DEFAULT_LIMITS = Limits(memory=2 << 30, cpus=2.0, pids=512)
"""Upstream fleet's defaults; a plain gateway peaked here at 1052 MiB and 61 tasks (README)."""
BROWSER_LIMITS = Limits(memory=3 << 30, cpus=2.0, pids=1024)
"""A browser gateway with pages open peaked here at 1351 MiB and 193 tasks (Chromium's
processes and threads besides the gateway's; README)."""


def limits(resources: Resources, *, browser: bool) -> Limits:
    """``resources`` over the defaults for a plain or a browser gateway."""
    base = BROWSER_LIMITS if browser else DEFAULT_LIMITS
    return Limits(
        memory=size_bytes(resources.memory) if resources.memory else base.memory,
        cpus=float(resources.cpus) if resources.cpus is not None else base.cpus,
        pids=resources.pids if resources.pids is not None else base.pids,
    )
