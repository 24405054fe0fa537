"""What the swarm target adds to the checks: swarm publishes on every address of a node, so
every gateway needs its token, and browser control and CDP are published only on request."""

from __future__ import annotations

from collections.abc import Iterator

from openclaw_compose.core.checks import CheckCode, Problem, at_node
from openclaw_compose.core.ports import Footprint, PortPlan, format_range
from openclaw_compose.core.spec import DEFAULT_AUTH_MODE, Spec
from openclaw_compose.targets.swarm.sidecars import carrier_name, host_link_name


def swarm_problems(spec: Spec, plan: PortPlan) -> Iterator[Problem]:
    """Swarm publishes on every address of a node: token auth everywhere, browser opt-in."""
    if spec.front is not None:
        yield from _front(spec)
    yield Problem(
        CheckCode.SWARM_PUBLISH_ADDRESS,
        "warning",
        tuple(spec.profiles),
        "swarm publishes ports on every address of their node (0.0.0.0), not on "
        f"publish_address {spec.publish_address}: every gateway port is reachable from the "
        "networks its node is on, protected by the gateway's token (required for every profile)",
        nodes=tuple(plan.by_node()),
    )
    for fp in plan.footprints:
        profile = spec.profiles[fp.profile]
        auth = profile.auth()
        mode = auth.get("mode") if isinstance(auth, dict) else auth
        field = f"profiles.{fp.profile}.openclaw.gateway.auth"
        if mode != DEFAULT_AUTH_MODE:
            yield Problem(
                CheckCode.SWARM_AUTH,
                "error",
                (fp.profile,),
                f"{field}.mode is {mode!r}, but swarm publishes port {fp.base} on every "
                "address of its node, so every gateway must use token auth: remove the setting "
                "(token is the default)",
                ports=(fp.base,),
                nodes=(fp.node,),
            )
        elif isinstance(auth, dict) and "token" in auth:
            yield Problem(
                CheckCode.SWARM_AUTH,
                "error",
                (fp.profile,),
                f"{field}.token is set: it would be stored in plain text in the seed config, a "
                "swarm config anyone with access to the swarm can read; remove it: the "
                "gateway's token comes from .env, as a swarm secret",
                nodes=(fp.node,),
            )
        yield from _browser_exposure(spec, fp)
        yield from _sidecar_names(spec, fp)


def _sidecar_names(spec: Spec, fp: Footprint) -> Iterator[Problem]:
    """A profile's port carrier and host link are services named after it: no other profile
    may have their names."""
    profile = spec.profiles[fp.profile]
    wanted = (profile.egress == "none", bool(profile.host_services))
    for (role, name), used in zip(
        (("port carrier", carrier_name(fp.profile)), ("host link", host_link_name(fp.profile))),
        wanted,
        strict=True,
    ):
        if used and name in spec.profiles:
            yield Problem(
                CheckCode.SWARM_SIDECAR_NAME,
                "error",
                (fp.profile, name),
                f"profile {fp.profile!r}'s {role} is the service {name!r}, which is profile "
                f"{name!r}'s name; rename that profile",
                nodes=(fp.node,),
            )


def _browser_exposure(spec: Spec, fp: Footprint) -> Iterator[Problem]:
    ranges = fp.relayed()
    shown = ", ".join(format_range(*r) for r in ranges)
    ports = tuple(port for low, high in ranges for port in range(low, high + 1))
    if spec.swarm.publish_browser_ports:
        yield Problem(
            CheckCode.SWARM_BROWSER_PORTS,
            "warning",
            (fp.profile,),
            f"{at_node(fp.node)}profile {fp.profile!r}: swarm.publish_browser_ports publishes "
            f"browser control and CDP ports {shown} on every address of its node; browser "
            "control needs the token, but CDP has no authentication: whoever reaches those "
            "ports controls the browser",
            ports=ports,
            nodes=(fp.node,),
        )
    elif spec.profiles[fp.profile].browser or fp.cdp_ports:
        yield Problem(
            CheckCode.SWARM_BROWSER_PORTS,
            "warning",
            (fp.profile,),
            f"{at_node(fp.node)}profile {fp.profile!r} uses a browser, but its browser control and "
            f"CDP ports {shown} are not published: swarm would publish them on every address "
            "of the node, and CDP has no authentication. The gateway still uses them inside its "
            "container; set swarm.publish_browser_ports: true to publish them anyway",
            ports=ports,
            nodes=(fp.node,),
        )


def _front(spec: Spec) -> Iterator[Problem]:
    """The swarm front listens on every address of the manager, as a published port does."""
    front = spec.front
    assert front is not None
    served = tuple(name for name, profile in spec.profiles.items() if profile.hostname)
    if front.tls == "none":
        yield Problem(
            CheckCode.SWARM_FRONT,
            "error",
            served,
            "front.tls is 'none', but a swarm front listens on every address of the manager: "
            "tokens would cross the network in clear; use 'tls: local' or a certificate of "
            "your own",
            ports=(front.port,),
        )
    elif not front.address.is_unspecified:
        yield Problem(
            CheckCode.SWARM_FRONT,
            "warning",
            served,
            f"swarm publishes the front on every address of the manager (port {front.port}), "
            f"not on front.address {front.address} only: point the names at the manager",
            ports=(front.port,),
        )
