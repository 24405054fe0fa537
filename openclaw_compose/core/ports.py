"""The port plan: the exact set of host ports each gateway instance occupies.

From the gateway's sources and upstream's ``docs/tools/browser/configuration.md``: with base
port B, the gateway (HTTP, WebSocket, canvas) listens on B, the browser control service on B+2,
extension relay profiles on B+3..B+10 and auto-assigned CDP ports on B+11..B+110. One instance
therefore occupies B..B+110, plus every explicit ``browser.profiles.<name>.cdpPort``. B+1,
reserved with it, is where the HTTPS front reaches a gateway on a bridge network: the image's
relay carries it to the gateway's loopback.

Ports are per node: profiles placed on different swarm nodes (``node:``) may use the same ports.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from openclaw_compose.core.spec import Spec

FRONT_RELAY_OFFSET = 1
BROWSER_CONTROL_OFFSET = 2
RELAY_OFFSETS = (3, 10)
CDP_OFFSETS = (11, 110)
FOOTPRINT_SPAN = CDP_OFFSETS[1]
RECOMMENDED_SPACING = 120
"""Upstream's recommended distance between base ports (footprint plus headroom)."""

PORT_MIN, PORT_MAX = 1, 65535

PortRange = tuple[int, int]
"""An inclusive range of ports."""


@dataclass(frozen=True, slots=True)
class Footprint:
    """The ports of one gateway instance."""

    profile: str
    base: int
    cdp_ports: Mapping[str, int]
    """Explicit CDP ports by browser profile name, in name order."""
    node: str | None = None
    """The swarm node the instance is placed on; None: the node of every profile without one."""
    fronted: bool = False
    """The HTTPS front serves it (``front:`` and a ``hostname``)."""

    @property
    def front_relay(self) -> int:
        return self.base + FRONT_RELAY_OFFSET

    @property
    def browser_control(self) -> int:
        return self.base + BROWSER_CONTROL_OFFSET

    @property
    def extension_relay(self) -> PortRange:
        return (self.base + RELAY_OFFSETS[0], self.base + RELAY_OFFSETS[1])

    @property
    def cdp(self) -> PortRange:
        return (self.base + CDP_OFFSETS[0], self.base + CDP_OFFSETS[1])

    @property
    def span(self) -> PortRange:
        """The contiguous block base..base+110 that the instance reserves."""
        return (self.base, self.base + FOOTPRINT_SPAN)

    def extra_cdp_ports(self) -> dict[str, int]:
        """Explicit CDP ports outside the instance's own CDP range."""
        low, high = self.cdp
        return {name: port for name, port in self.cdp_ports.items() if not low <= port <= high}

    def published(self, *, browser: bool = True) -> list[PortRange]:
        """What a container publishes: base, and browser control and CDP ports with ``browser``
        (a swarm stack publishes them only when the spec opts in)."""
        return [(self.base, self.base), *(self.relayed() if browser else [])]

    def loopback_published(self) -> list[PortRange]:
        """What a container on a bridge network publishes on the host's loopback only: the
        front's way in (B+1), for a profile the front serves."""
        return [(self.front_relay, self.front_relay)] if self.fronted else []

    def relayed(self) -> list[PortRange]:
        """The ports that listen on the container's loopback: browser control and CDP."""
        extras = sorted(set(self.extra_cdp_ports().values()))
        return sorted(
            [(self.browser_control, self.browser_control), self.cdp]
            + [(port, port) for port in extras]
        )

    def host_ports(self, network: str) -> list[PortRange]:
        """The host ports the instance binds: published ones, or (host network) all of them."""
        if network == "bridge":
            return self.published() + self.loopback_published()
        extras = sorted(set(self.extra_cdp_ports().values()))
        return [self.span, *((port, port) for port in extras)]

    def to_json(self) -> dict[str, Any]:
        return {
            "node": self.node,
            "base": self.base,
            "browser_control": self.browser_control,
            "extension_relay": list(self.extension_relay),
            "cdp": list(self.cdp),
            "cdp_ports": dict(self.cdp_ports),
        }


@dataclass(frozen=True, slots=True)
class PortPlan:
    footprints: tuple[Footprint, ...]

    def footprint(self, profile: str) -> Footprint:
        """The footprint of ``profile`` (one of the spec's)."""
        return next(fp for fp in self.footprints if fp.profile == profile)

    def by_node(self) -> dict[str | None, tuple[Footprint, ...]]:
        """The footprints of each node (in the order of the profiles file): the checks and
        the host preflight look at one node at a time."""
        groups: dict[str | None, list[Footprint]] = {}
        for fp in self.footprints:
            groups.setdefault(fp.node, []).append(fp)
        return {node: tuple(group) for node, group in groups.items()}

    def to_json(self) -> dict[str, Any]:
        return {"profiles": {fp.profile: fp.to_json() for fp in self.footprints}}


def plan_ports(spec: Spec) -> PortPlan:
    """One footprint per profile, in the order of the profiles file."""
    return PortPlan(
        tuple(
            Footprint(
                profile=name,
                base=profile.port,
                cdp_ports={
                    browser: fragment.cdpPort
                    for browser, fragment in sorted(profile.openclaw.browser.profiles.items())
                    if fragment.cdpPort is not None
                },
                node=profile.node,
                fronted=spec.front is not None and profile.hostname is not None,
            )
            for name, profile in spec.profiles.items()
        )
    )


def format_range(low: int, high: int) -> str:
    return str(low) if low == high else f"{low}-{high}"
