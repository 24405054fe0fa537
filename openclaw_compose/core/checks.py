"""Isolation checks: everything that must hold before a project is written or launched.

Overlaps are found with interval sweeps, never all pairs, so that thousands of profiles check in
well under a second. Each problem names its profiles, ports or paths, and what to change.

Ports and host paths belong to a node: they are checked among the profiles placed on the same
node (``node:``; profiles without one share a node), and may repeat across nodes. What a target
adds (a Compose project runs on one host; a swarm stack publishes on every address) is checked
by the target (``targets/<name>/checks.py``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum
from itertools import pairwise
from pathlib import Path, PurePath, PurePosixPath
from typing import Any, Literal
from urllib.parse import urlsplit

from openclaw_compose.core.contract import FOLDERS
from openclaw_compose.core.hostpaths import unmountable
from openclaw_compose.core.journal import JOURNAL_DIR, is_ours
from openclaw_compose.core.native import NativeGateway
from openclaw_compose.core.ports import (
    CDP_OFFSETS,
    PORT_MAX,
    PORT_MIN,
    RECOMMENDED_SPACING,
    Footprint,
    PortPlan,
    PortRange,
    format_range,
)
from openclaw_compose.core.spec import Spec
from openclaw_compose.errors import ChecksFailed, shown

Severity = Literal["error", "warning"]


class CheckCode(StrEnum):
    """Every problem code, of the core checks, the targets' checks and the preflights: what
    ``check --json`` prints and the README's checks table documents (a test walks this)."""

    YAML = "yaml"
    SCHEMA = "schema"
    PORT_OVERLAP = "port-overlap"
    PORT_OUT_OF_RANGE = "port-out-of-range"
    CDP_PORT_COLLISION = "cdp-port-collision"
    CDP_URL_SHARED = "cdp-url-shared"
    CDP_URL_INVALID = "cdp-url-invalid"
    CDP_URL_FOREIGN = "cdp-url-foreign"
    PATH_INVALID = "path-invalid"
    PATH_OUTPUT = "path-output"
    PATH_SHARED = "path-shared"
    PORT_PRIVILEGED = "port-privileged"
    PORT_EPHEMERAL = "port-ephemeral"
    SPACING = "spacing"
    PORT_IN_USE = "port-in-use"
    PUBLISH_ADDRESS_UNAVAILABLE = "publish-address-unavailable"
    COMPOSE_NODES = "compose-nodes"
    COMPOSE_AUTH = "compose-auth"
    NETWORK_HOST_SHARED = "network-host-shared"
    SWARM_AUTH = "swarm-auth"
    SWARM_PUBLISH_ADDRESS = "swarm-publish-address"
    SWARM_BROWSER_PORTS = "swarm-browser-ports"
    SWARM_FRONT = "swarm-front"
    SWARM_SIDECAR_NAME = "swarm-sidecar-name"
    HOST_SERVICE_PORT = "host-service-port"
    NODE_PLACEMENT = "node-placement"
    NODE_IMAGE = "node-image"
    NATIVE_OVERLAP = "native-overlap"
    NATIVE_UNREADABLE = "native-unreadable"
    SECRET_MISSING = "secret-missing"
    SECRET_IN_CONFIG = "secret-in-config"
    FRONT_UNUSED = "front-unused"
    FRONT_HOSTNAME_SHARED = "front-hostname-shared"
    FRONT_PORT = "front-port"
    FRONT_PLAINTEXT = "front-plaintext"
    FRONT_LOCAL_CA = "front-local-ca"
    FRONT_CERTIFICATE = "front-certificate"
    FRONT_AUTH = "front-auth"
    FRONT_ADDRESS_UNAVAILABLE = "front-address-unavailable"
    OPENCLAW_SCHEMA = "openclaw-schema"


PRIVILEGED_BELOW = 1024


@dataclass(frozen=True, slots=True)
class Problem:
    code: CheckCode
    severity: Severity
    profiles: tuple[str, ...]
    message: str
    ports: tuple[int, ...] = ()
    paths: tuple[str, ...] = ()
    nodes: tuple[str | None, ...] = ()
    """The nodes of its profiles (None: the node of the profiles without ``node:``); one for
    every per-node check, none for problems with the file itself."""

    def __str__(self) -> str:
        return f"{self.severity}: [{self.code}] {self.message}"

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "code": self.code,
            "severity": self.severity,
            "profiles": list(self.profiles),
            "ports": list(self.ports),
            "nodes": list(self.nodes),
            "message": self.message,
        }
        if self.paths:
            data["paths"] = list(self.paths)
        return data


@dataclass(frozen=True, slots=True)
class Report:
    problems: tuple[Problem, ...]

    @property
    def errors(self) -> int:
        return sum(problem.severity == "error" for problem in self.problems)

    @property
    def warnings(self) -> int:
        return len(self.problems) - self.errors

    @property
    def ok(self) -> bool:
        return self.errors == 0

    def fail_unless_ok(self) -> None:
        """Raise :class:`ChecksFailed` with every problem when there is any error."""
        if not self.ok:
            raise ChecksFailed([str(problem) for problem in self.problems], self.errors)

    def to_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "problems": [problem.to_json() for problem in self.problems]}


@dataclass(frozen=True, slots=True)
class HostFacts:
    """What the checks need to know about the host the project will run on."""

    ephemeral: PortRange | None = None
    natives: tuple[NativeGateway, ...] = ()
    """The native OpenClaw gateways of the user whose home was looked at."""


def run_checks(spec: Spec, plan: PortPlan, host: HostFacts) -> Report:
    """The target-neutral checks (a target adds its own: :mod:`openclaw_compose.targets`)."""
    nodes = plan.by_node()
    problems: list[Problem] = []
    problems += _out_of_range(plan)
    problems += _own_cdp_ports(plan)
    for node, footprints in nodes.items():
        problems += _overlaps(footprints, node)
    problems += _shared_cdp_urls(spec)
    problems += _foreign_cdp_ports(spec, plan)
    problems += _invalid_paths(spec)
    problems += _shared_paths(spec)
    problems += _privileged(plan)
    problems += _ephemeral(plan, host)
    for node, footprints in nodes.items():
        problems += _spacing(footprints, node)
    return Report(tuple(problems))


def at_node(node: str | None) -> str:
    """Message prefix naming a profile's node; none for the node of profiles without one."""
    return f"node {node!r}: " if node is not None else ""


def _ports(low: int, high: int) -> tuple[int, ...]:
    return tuple(range(low, high + 1))


def _out_of_range(plan: PortPlan) -> Iterator[Problem]:
    for fp in plan.footprints:
        low, high = fp.span
        if low < PORT_MIN or high > PORT_MAX:
            yield Problem(
                CheckCode.PORT_OUT_OF_RANGE,
                "error",
                (fp.profile,),
                f"{at_node(fp.node)}profile {fp.profile!r}: base port {fp.base} puts its ports at "
                f"{format_range(low, high)}, outside {PORT_MIN}-{PORT_MAX}; choose a base port "
                f"from {PORT_MIN} to {PORT_MAX - (high - low)}",
                ports=(fp.base,),
                nodes=(fp.node,),
            )
        for browser, port in fp.cdp_ports.items():
            if not PORT_MIN <= port <= PORT_MAX:
                yield Problem(
                    CheckCode.PORT_OUT_OF_RANGE,
                    "error",
                    (fp.profile,),
                    f"{at_node(fp.node)}profile {fp.profile!r}: browser profile {browser!r} has "
                    f"cdpPort {port}, outside {PORT_MIN}-{PORT_MAX}",
                    ports=(port,),
                    nodes=(fp.node,),
                )


def _own_cdp_ports(plan: PortPlan) -> Iterator[Problem]:
    """Explicit CDP ports that clash within their own instance."""
    for fp in plan.footprints:
        services_low, services_high = fp.base, fp.base + CDP_OFFSETS[0] - 1
        owners: dict[int, list[str]] = defaultdict(list)
        for browser, port in fp.cdp_ports.items():
            owners[port].append(browser)
            if services_low <= port <= services_high:
                yield Problem(
                    CheckCode.CDP_PORT_COLLISION,
                    "error",
                    (fp.profile,),
                    f"{at_node(fp.node)}profile {fp.profile!r}: cdpPort {port} of browser profile "
                    f"{browser!r} falls on the gateway's own service ports "
                    f"{format_range(services_low, services_high)} (gateway, browser control, "
                    f"extension relay); use a port in {format_range(*fp.cdp)} or outside "
                    "every gateway's ports",
                    ports=(port,),
                    nodes=(fp.node,),
                )
        for port, browsers in owners.items():
            if len(browsers) > 1:
                yield Problem(
                    CheckCode.CDP_PORT_COLLISION,
                    "error",
                    (fp.profile,),
                    f"{at_node(fp.node)}profile {fp.profile!r}: cdpPort {port} is used by browser "
                    f"profiles {', '.join(map(repr, browsers))}; give each its own port",
                    ports=(port,),
                    nodes=(fp.node,),
                )


@dataclass(frozen=True, slots=True, order=True)
class _Interval:
    low: int
    high: int
    owner: str
    browser: str = ""
    """Empty for an instance's reserved block, else the browser profile of an explicit cdpPort."""


def _intervals(footprints: Iterable[Footprint]) -> Iterator[_Interval]:
    for fp in footprints:
        yield _Interval(*fp.span, fp.profile)
        for browser, port in fp.extra_cdp_ports().items():
            yield _Interval(port, port, fp.profile, browser)


def _overlaps(footprints: Sequence[Footprint], node: str | None) -> Iterator[Problem]:
    """Port sets of different instances on ``node`` that intersect.

    One sweep in order of the lower bound, keeping the interval that reaches furthest and the
    one reaching furthest among the other owners: any earlier interval of another owner that
    meets the current one meets the further-reaching of these two. Every interval that meets
    another owner's is reported once, with one partner.
    """
    best: _Interval | None = None
    runner_up: _Interval | None = None  # reaches furthest among owners other than best's
    for current in sorted(_intervals(footprints)):
        partner = runner_up if best is not None and best.owner == current.owner else best
        if partner is not None and partner.high >= current.low:
            yield _overlap_problem(partner, current, node)
        if best is None or current.high > best.high:
            if best is not None and best.owner != current.owner:
                runner_up = best
            best = current
        elif current.owner != best.owner and (runner_up is None or current.high > runner_up.high):
            runner_up = current


def _describe(interval: _Interval) -> str:
    if not interval.browser:
        return f"{interval.owner!r} ({format_range(interval.low, interval.high)})"
    return f"{interval.owner!r} (cdpPort {interval.low} of browser profile {interval.browser!r})"


def _overlap_problem(first: _Interval, second: _Interval, node: str | None) -> Problem:
    low, high = second.low, min(first.high, second.high)
    shared = format_range(low, high)
    profiles = (first.owner, second.owner)
    if not (first.browser or second.browser):
        return Problem(
            CheckCode.PORT_OVERLAP,
            "error",
            profiles,
            f"{at_node(node)}profiles {_describe(first)} and {_describe(second)} share ports "
            f"{shared}: a "
            f"gateway uses its base port through base+110 (browser control, extension relay, "
            f"CDP). Move {second.owner!r} to port {first.high + 1} or higher "
            f"({first.low + RECOMMENDED_SPACING} keeps upstream's recommended spacing of "
            f"{RECOMMENDED_SPACING})",
            ports=_ports(low, high),
            nodes=(node,),
        )
    return Problem(
        CheckCode.CDP_PORT_COLLISION,
        "error",
        profiles,
        f"{at_node(node)}{_describe(first)} and {_describe(second)} both claim port {shared}; give "
        "the cdpPort a port outside every gateway's base..base+110 and not used by another "
        "cdpPort",
        ports=_ports(low, high),
        nodes=(node,),
    )


def cdp_endpoint(url: str) -> tuple[str, int] | None:
    """``(host, port)`` of a CDP URL: scheme, host case and default ports normalised."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if not parts.hostname or scheme not in {"http", "https", "ws", "wss"}:
        return None
    return parts.hostname.lower(), port or (443 if scheme in {"https", "wss"} else 80)


def _shared_cdp_urls(spec: Spec) -> Iterator[Problem]:
    users: dict[tuple[str, int], list[tuple[str, str]]] = defaultdict(list)
    for name, profile in spec.profiles.items():
        for key, url in profile.openclaw.browser.cdp_urls():
            endpoint = cdp_endpoint(url)
            if endpoint is None:
                yield Problem(
                    CheckCode.CDP_URL_INVALID,
                    "error",
                    (name,),
                    f"profiles.{name}.openclaw.{key}: {url!r} is not an http(s) or ws(s) URL "
                    "with a host, such as http://10.0.0.5:9222",
                    nodes=(profile.node,),
                )
            else:
                users[endpoint].append((name, key))
    for (host, port), where in users.items():
        if len(where) > 1:
            places = ", ".join(f"profiles.{name}.openclaw.{key}" for name, key in where)
            profiles = tuple(dict.fromkeys(name for name, _ in where))
            yield Problem(
                CheckCode.CDP_URL_SHARED,
                "error",
                profiles,
                f"{places} all point at the CDP endpoint {host}:{port}; one browser cannot "
                "serve two gateways or two browser profiles: give each its own Chrome",
                ports=(port,),
                nodes=tuple(dict.fromkeys(spec.profiles[name].node for name in profiles)),
            )


_LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1", "[::1]"})


def _foreign_cdp_ports(spec: Spec, plan: PortPlan) -> Iterator[Problem]:
    """A cdpUrl on loopback at a port of another profile: with ``network: host`` that is the
    other gateway's own browser (and with ``bridge`` nothing at all), never a browser of one's
    own."""
    for name, profile in spec.profiles.items():
        for key, url in profile.openclaw.browser.cdp_urls():
            endpoint = cdp_endpoint(url)
            if endpoint is None or not _loopback(endpoint[0]):
                continue
            port = endpoint[1]
            owner = next(
                (
                    fp.profile
                    for fp in plan.footprints
                    if fp.node == profile.node
                    and fp.profile != name
                    and (fp.span[0] <= port <= fp.span[1] or port in fp.cdp_ports.values())
                ),
                None,
            )
            if owner is not None:
                yield Problem(
                    CheckCode.CDP_URL_FOREIGN,
                    "error",
                    (name, owner),
                    f"profiles.{name}.openclaw.{key}: {url!r} points at port {port} on "
                    f"loopback, which belongs to profile {owner!r}: a gateway must not drive "
                    "another profile's browser; point it at a browser of its own",
                    ports=(port,),
                    nodes=(profile.node,),
                )


def _loopback(host: str) -> bool:
    return host in _LOOPBACK_NAMES or host.startswith("127.")


def _invalid_paths(spec: Spec) -> Iterator[Problem]:
    for name, profile in spec.profiles.items():
        for role, path in profile.host_paths().items():
            reason = unmountable(path)
            if reason is not None:
                yield path_problem(name, f"{role}_dir", path, reason, profile.node)


def path_problem(profile: str, field: str, path: Path, reason: str, node: str | None) -> Problem:
    """A host path that cannot be mounted (the compose target adds what this host says)."""
    return Problem(
        CheckCode.PATH_INVALID,
        "error",
        (profile,),
        f"profiles.{profile}.{field} ({shown(path)}): {reason}",
        paths=(shown(path),),
        nodes=(node,),
    )


def output_problems(spec: Spec, out_dir: Path) -> Iterator[Problem]:
    """Bind paths that are, or contain, the output directory (the container would see ``.env``
    with every profile's token), or that are inside one of the files openclaw-compose manages
    there (every profile's seed, the front's files and its CA's key, the journal)."""
    try:
        out = out_dir.resolve()
    except (RuntimeError, ValueError, OSError):
        return  # the writer reports an output directory it cannot reach
    for name, profile in spec.profiles.items():
        for role, path in profile.host_paths().items():
            if out.is_relative_to(path):
                relation = "is" if out == path else "contains"
                what = f"{relation} the output directory {shown(out)}: the gateway would see "
                what += ".env with every profile's token"
            elif path.is_relative_to(out) and _managed(path.relative_to(out).parts[0]):
                managed = out / path.relative_to(out).parts[0]
                what = f"is inside {shown(managed)}, which openclaw-compose writes itself"
            else:
                continue
            yield Problem(
                CheckCode.PATH_OUTPUT,
                "error",
                (name,),
                f"profiles.{name}.{role}_dir ({shown(path)}) {what}; choose a directory outside "
                "it, or another -o DIR",
                paths=(shown(path),),
                nodes=(profile.node,),
            )


def _managed(name: str) -> bool:
    return is_ours(name) or name in (*FOLDERS, JOURNAL_DIR)


def _shared_paths(spec: Spec) -> Iterator[Problem]:
    """Paths are the node's own: only profiles on the same node can share one."""
    for node in dict.fromkeys(profile.node for profile in spec.profiles.values()):
        profiles = {name: p for name, p in spec.profiles.items() if p.node == node}
        host_paths = [
            (PurePath(path), name, f"{role}_dir")
            for name, profile in profiles.items()
            for role, path in profile.host_paths().items()
        ]
        yield from _nested_paths(host_paths, "host directory", node)
        workspaces = [
            (PurePosixPath(workspace), name, "openclaw.agents.defaults.workspace")
            for name, profile in profiles.items()
            if (workspace := profile.openclaw.agents.defaults.workspace) is not None
        ]
        yield from _nested_paths(workspaces, "workspace", node)


def _nested_paths(
    entries: Sequence[tuple[PurePath, str, str]], kind: str, node: str | None
) -> Iterator[Problem]:
    """Paths of different profiles that are equal or inside one another (one sweep)."""
    ancestors: list[tuple[PurePath, str, str]] = []
    for entry in sorted(entries, key=lambda item: (item[0].parts, item[1], item[2])):
        path, owner, _ = entry
        while ancestors and not path.is_relative_to(ancestors[-1][0]):
            ancestors.pop()
        other = next((a for a in reversed(ancestors) if a[1] != owner), None)
        if other is not None:
            yield _path_problem(other, entry, kind, node)
        ancestors.append(entry)


def _path_problem(
    outer: tuple[PurePath, str, str],
    inner: tuple[PurePath, str, str],
    kind: str,
    node: str | None,
) -> Problem:
    relation = "the same" if outer[0] == inner[0] else "nested"
    return Problem(
        CheckCode.PATH_SHARED,
        "error",
        (outer[1], inner[1]),
        f"{at_node(node)}profiles.{outer[1]}.{outer[2]} ({outer[0]}) and "
        f"profiles.{inner[1]}.{inner[2]} ({inner[0]}) are {relation} {kind}: every gateway "
        "needs its own state, config and workspace; give each profile a separate directory",
        paths=(str(outer[0]), str(inner[0])),
        nodes=(node,),
    )


def _privileged(plan: PortPlan) -> Iterator[Problem]:
    for fp in plan.footprints:
        if PORT_MIN <= fp.base < PRIVILEGED_BELOW:
            yield Problem(
                CheckCode.PORT_PRIVILEGED,
                "warning",
                (fp.profile,),
                f"{at_node(fp.node)}profile {fp.profile!r}: ports {format_range(*fp.span)} start "
                f"below {PRIVILEGED_BELOW}; binding them may need privileges. Prefer a base port "
                "of 1024 or more",
                ports=_ports(fp.base, min(fp.span[1], PRIVILEGED_BELOW - 1)),
                nodes=(fp.node,),
            )


def _ephemeral(plan: PortPlan, host: HostFacts) -> Iterator[Problem]:
    if host.ephemeral is None:
        return
    eph_low, eph_high = host.ephemeral
    for fp in plan.footprints:
        low, high = max(fp.span[0], eph_low), min(fp.span[1], eph_high)
        extra = {port for port in fp.extra_cdp_ports().values() if eph_low <= port <= eph_high}
        in_range = sorted(set(range(low, high + 1)) | extra)
        if in_range:
            yield Problem(
                CheckCode.PORT_EPHEMERAL,
                "warning",
                (fp.profile,),
                f"{at_node(fp.node)}profile {fp.profile!r}: ports "
                f"{format_range(min(in_range), max(in_range))} lie in the host's ephemeral range "
                f"{eph_low}-{eph_high} (net.ipv4.ip_local_port_range), where outgoing "
                "connections can take them first; prefer ports outside it",
                ports=tuple(in_range),
                nodes=(fp.node,),
            )


def _spacing(footprints: Sequence[Footprint], node: str | None) -> Iterator[Problem]:
    ordered = sorted(footprints, key=lambda fp: (fp.base, fp.profile))
    for lower, upper in pairwise(ordered):
        if lower.span[1] < upper.base < lower.base + RECOMMENDED_SPACING:
            yield Problem(
                CheckCode.SPACING,
                "warning",
                (lower.profile, upper.profile),
                f"{at_node(node)}profiles {lower.profile!r} ({lower.base}) and {upper.profile!r} "
                f"({upper.base}) do not overlap but are {upper.base - lower.base} ports apart; "
                f"upstream recommends at least {RECOMMENDED_SPACING}: consider port "
                f"{lower.base + RECOMMENDED_SPACING} for {upper.profile!r}",
                ports=(lower.base, upper.base),
                nodes=(node,),
            )
