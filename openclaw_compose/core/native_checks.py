"""Checks of a project against the native gateways on its host (``core/native.py``).

A native gateway's footprint counts like a profile's: the container must not take any of its
ports (bound now or not: CDP ports are bound only when its browser starts), its CDP endpoints,
or its state and workspace directories. Natives are a handful per host, so each is compared
with the profiles' sorted intervals directly. Problems among natives themselves are not
reported: they are not this project's to fix.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

from openclaw_compose.core.checks import CheckCode, Problem, cdp_endpoint
from openclaw_compose.core.native import NativeGateway
from openclaw_compose.core.ports import (
    RECOMMENDED_SPACING,
    Footprint,
    PortPlan,
    PortRange,
    format_range,
)
from openclaw_compose.core.spec import Spec

IGNORE_HINT = "or pass --ignore-native if that gateway will never run again"


def native_problems(
    spec: Spec, plan: PortPlan, natives: Sequence[NativeGateway]
) -> Iterator[Problem]:
    for native in natives:
        if native.problem is not None:
            yield _unreadable(native)
        yield from _overlaps(plan, native)
        yield from _shared_cdp_urls(spec, native)
        yield from _shared_paths(spec, native)


def _unreadable(native: NativeGateway) -> Problem:
    return Problem(
        CheckCode.NATIVE_UNREADABLE,
        "warning",
        (),
        f"{native.problem}; its ports were taken as {native.base} and up ({native.port_source}), "
        "which may be wrong: fix the file (OpenClaw will not start with it either)",
        paths=(str(native.config_path),),
    )


def _ranges(ports: Iterable[int]) -> list[PortRange]:
    ranges: list[PortRange] = []
    for port in sorted(set(ports)):
        if ranges and ranges[-1][1] == port - 1:
            ranges[-1] = (ranges[-1][0], port)
        else:
            ranges.append((port, port))
    return ranges


def _intervals(fp: Footprint) -> list[PortRange]:
    return [fp.span, *((port, port) for port in fp.cdp_ports.values())]


def _shared_ports(ours: list[PortRange], theirs: list[PortRange]) -> list[int]:
    return sorted(
        {
            port
            for low, high in ours
            for their_low, their_high in theirs
            for port in range(max(low, their_low), min(high, their_high) + 1)
        }
    )


def _overlaps(plan: PortPlan, native: NativeGateway) -> Iterator[Problem]:
    theirs = native.footprint()
    if theirs is None:
        return
    explicit = "".join(f" and cdpPort {port} ({name})" for name, port in theirs.cdp_ports.items())
    for fp in plan.footprints:
        shared = _shared_ports(_intervals(fp), _intervals(theirs))
        if not shared:
            continue
        shown = ", ".join(format_range(*r) for r in _ranges(shared))
        yield Problem(
            CheckCode.NATIVE_OVERLAP,
            "error",
            (fp.profile,),
            f"profile {fp.profile!r} ({format_range(*fp.span)}) shares ports {shown} with the "
            f"{native.describe()}, whose ports are {format_range(*theirs.span)}{explicit} "
            f"(base {theirs.base}: {native.port_source}). A native gateway binds its CDP ports "
            "only when its browser starts, so they collide later even when free now. Move "
            f"{fp.profile!r} to port {theirs.span[1] + 1} or higher "
            f"({theirs.base + RECOMMENDED_SPACING} keeps upstream's recommended spacing), "
            f"{IGNORE_HINT}",
            ports=tuple(shared),
            paths=(str(native.config_path),),
            nodes=(fp.node,),
        )


def _shared_cdp_urls(spec: Spec, native: NativeGateway) -> Iterator[Problem]:
    theirs = {cdp_endpoint(url): key for key, url in native.cdp_urls}
    for name, profile in spec.profiles.items():
        for key, url in profile.openclaw.browser.cdp_urls():
            endpoint = cdp_endpoint(url)
            if endpoint is None or endpoint not in theirs:
                continue
            host, port = endpoint
            yield Problem(
                CheckCode.CDP_URL_SHARED,
                "error",
                (name,),
                f"profiles.{name}.openclaw.{key} and {theirs[endpoint]} of the "
                f"{native.describe()} both point at the CDP endpoint {host}:{port}; one browser "
                f"cannot serve two gateways: give each its own Chrome, {IGNORE_HINT}",
                ports=(port,),
                paths=(str(native.config_path),),
                nodes=(profile.node,),
            )


def _shared_paths(spec: Spec, native: NativeGateway) -> Iterator[Problem]:
    theirs = {"state dir": native.state_dir, "workspace": native.workspace}
    for name, profile in spec.profiles.items():
        for role, path in profile.host_paths().items():
            ours = Path(path).absolute()
            for kind, their_path in theirs.items():
                if not (ours.is_relative_to(their_path) or their_path.is_relative_to(ours)):
                    continue
                relation = "the same directory as" if ours == their_path else "nested with"
                yield Problem(
                    CheckCode.PATH_SHARED,
                    "error",
                    (name,),
                    f"profiles.{name}.{role}_dir ({ours}) is {relation} the {kind} "
                    f"{their_path} of the {native.describe()}: the container would write into "
                    "a native gateway's files; give the profile its own directory (to move "
                    "that gateway into the profile, use 'openclaw-compose import')",
                    paths=(str(ours), str(their_path)),
                    nodes=(profile.node,),
                )
