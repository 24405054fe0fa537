"""Checks of the HTTPS front (``front:`` and the profiles' ``hostname:``): what must hold before
a front is written or started. That its port is free on this host is the compose preflight's
(:mod:`openclaw_compose.host.preflight`)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from openclaw_compose.core.checks import CheckCode, Problem
from openclaw_compose.core.front import hostnames
from openclaw_compose.core.frontcerts import check_user_certificate
from openclaw_compose.core.ports import PortPlan
from openclaw_compose.core.spec import FrontCertificate, Spec

ALLOWED_AUTH = ("token", "password")
"""Auth modes a gateway behind the front may have: its own shared secret. ``none`` would give
it to anyone who reaches the front; ``trusted-proxy`` would trust a proxy that checks no one."""


def front_problems(spec: Spec, plan: PortPlan) -> Iterator[Problem]:
    if spec.front is None:
        named = [name for name, profile in spec.profiles.items() if profile.hostname]
        if named:
            yield Problem(
                CheckCode.FRONT_UNUSED,
                "warning",
                tuple(named),
                f"{', '.join(named)} name a hostname, but there is no 'front:': nothing serves "
                "them under that name; add 'front:' or remove 'hostname'",
            )
        return
    names = hostnames(spec)
    if not names:
        yield Problem(
            CheckCode.FRONT_UNUSED,
            "warning",
            (),
            "'front:' is set, but no profile has a 'hostname': the front serves no gateway",
        )
    yield from _shared_names(names)
    yield from _port(spec, plan)
    yield from _tls(spec, names)
    yield from _auth(spec, names)


def _shared_names(names: dict[str, str]) -> Iterator[Problem]:
    by_name: dict[str, list[str]] = defaultdict(list)
    for profile, name in names.items():
        by_name[name].append(profile)
    for name, profiles in by_name.items():
        if len(profiles) > 1:
            yield Problem(
                CheckCode.FRONT_HOSTNAME_SHARED,
                "error",
                tuple(profiles),
                f"profiles {', '.join(profiles)} share the hostname {name}: the front sends one "
                "name to one gateway; give each profile its own",
            )


def _port(spec: Spec, plan: PortPlan) -> Iterator[Problem]:
    assert spec.front is not None
    port = spec.front.port
    if not 1 <= port <= 65535:
        yield Problem(
            CheckCode.FRONT_PORT,
            "error",
            (),
            f"front.port {port} is not a TCP port (1 to 65535)",
            ports=(port,),
        )
        return
    for fp in plan.footprints:
        low, high = fp.span
        if low <= port <= high or port in fp.cdp_ports.values():
            yield Problem(
                CheckCode.FRONT_PORT,
                "error",
                (fp.profile,),
                f"front.port {port} is one of profile {fp.profile!r}'s ports "
                f"({low}-{high}, and its explicit CDP ports): move the front or the profile",
                ports=(port,),
                nodes=(fp.node,),
            )


def _tls(spec: Spec, names: dict[str, str]) -> Iterator[Problem]:
    front = spec.front
    assert front is not None
    if front.tls == "none":
        if not front.address.is_loopback:
            yield Problem(
                CheckCode.FRONT_PLAINTEXT,
                "error",
                tuple(names),
                f"front.address {front.address} is not loopback and front.tls is 'none': tokens "
                "and chats would cross the network in clear text; use 'tls: local' or your "
                "certificate, or listen on 127.0.0.1",
            )
        return
    if front.tls == "local":
        yield Problem(
            CheckCode.FRONT_LOCAL_CA,
            "warning",
            tuple(names),
            "front.tls is 'local': the front's certificate is signed by this project's own CA; "
            "each browser or phone must trust front/ca.crt (see the README, 'From another "
            "machine'), or use a certificate of your own",
        )
        return
    yield from _user_certificate(front.tls, names)


def _user_certificate(tls: FrontCertificate, names: dict[str, str]) -> Iterator[Problem]:
    for finding in check_user_certificate(tls.cert, tls.key, names):
        yield Problem(
            CheckCode.FRONT_CERTIFICATE,
            "error" if finding.fatal else "warning",
            tuple(names),
            finding.message,
            paths=(str(tls.cert), str(tls.key)),
        )


def _auth(spec: Spec, names: dict[str, str]) -> Iterator[Problem]:
    for profile in names:
        auth = spec.profiles[profile].auth()
        mode = auth.get("mode") if isinstance(auth, dict) else auth
        if mode not in ALLOWED_AUTH:
            yield Problem(
                CheckCode.FRONT_AUTH,
                "error",
                (profile,),
                f"profiles.{profile}.openclaw.gateway.auth.mode is {mode!r}, but the front "
                f"serves it to the network: a gateway behind the front keeps its own token or "
                "password auth; remove the setting (token is the default)",
            )
