"""One profile at a time: ``restart``, ``stop``, ``start`` and ``ps``, and what needs one
running gateway (``cli``, ``dashboard``), on every target, through the runtime hooks
(:class:`openclaw_compose.targets.base.Runtime`). The other profiles' gateways are not touched:
compose acts on one service (``restart``/``stop``/``up --no-deps``), swarm on one service
(``service update --force``, ``scale``). ``restart``, ``stop`` and ``start`` refuse a project
another profiles file owns (:mod:`.ownership`)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from openclaw_compose.core.contract import dashboard_url, token_ref
from openclaw_compose.core.envfile import ENV_FILE
from openclaw_compose.core.front import front_url
from openclaw_compose.core.loading import LoadedSpec
from openclaw_compose.core.ports import PortPlan, plan_ports
from openclaw_compose.core.secretstore import stored_values
from openclaw_compose.core.spec import Spec
from openclaw_compose.engine import Engine
from openclaw_compose.errors import NotReadyError, NotRunning, UsageError
from openclaw_compose.runtime.ownership import require_owner
from openclaw_compose.targets.base import GatewayStatus, ProgressFn, Runtime, Target


def _runtime(loaded: LoadedSpec, engine: Engine, target: Target) -> Runtime:
    require_owner(engine, loaded)
    return target.runtime(engine)


def _each_then_await(
    runtime: Runtime,
    loaded: LoadedSpec,
    profiles: Sequence[str],
    action: tuple[str, Callable[[Spec, Path, str], None]],
    *,
    directory: Path,
    timeout: float,
    progress: ProgressFn,
) -> None:
    """``action`` (its progress line, the hook) on each profile's gateway, then wait until
    each answers ``/startupz``."""
    line, hook = action
    for name in profiles:
        progress(line.format(name=name))
        hook(loaded.spec, directory, name)
    failed = {
        name: reason
        for name in profiles
        if (reason := runtime.await_gateway(loaded.spec, name, timeout, steady=1)) is not None
    }
    if failed:
        reasons = "; ".join(f"{name}: {reason}" for name, reason in failed.items())
        raise NotReadyError(
            f"not ready: {reasons}. The gateways keep running.\n"
            + runtime.explain(loaded.spec, list(failed))
        )


def restart(
    loaded: LoadedSpec,
    directory: Path,
    engine: Engine,
    target: Target,
    profiles: Sequence[str],
    *,
    timeout: float,
    progress: ProgressFn,
) -> None:
    """Restart the profiles' gateways, then wait until each answers ``/startupz``."""
    runtime = _runtime(loaded, engine, target)
    action = ("restarting {name}", runtime.restart_gateway)
    _each_then_await(
        runtime, loaded, profiles, action, directory=directory, timeout=timeout, progress=progress
    )


def stop(
    loaded: LoadedSpec, directory: Path, engine: Engine, target: Target, profiles: Sequence[str]
) -> list[str]:
    """Stop the profiles' gateways, keeping them defined; the ones that were running."""
    runtime = _runtime(loaded, engine, target)
    return [name for name in profiles if runtime.stop_gateway(loaded.spec, directory, name)]


def start(
    loaded: LoadedSpec,
    directory: Path,
    engine: Engine,
    target: Target,
    profiles: Sequence[str],
    *,
    timeout: float,
    progress: ProgressFn,
) -> None:
    """Start the profiles' gateways as last written, then wait until each is ready."""
    runtime = _runtime(loaded, engine, target)
    action = ("starting {name}", runtime.start_gateway)
    _each_then_await(
        runtime, loaded, profiles, action, directory=directory, timeout=timeout, progress=progress
    )


def healthy(gateway: GatewayStatus) -> bool:
    """Running, not unhealthy, and its ``/healthz`` answers 200."""
    return (
        gateway.state == "running"
        and gateway.health != "unhealthy"
        and gateway.probes.get("healthz") == 200
    )


def require_running(
    loaded: LoadedSpec, engine: Engine, target: Target, profile: str
) -> GatewayStatus:
    """The profile's gateway; raises :class:`NotRunning` unless it runs (``cli``,
    ``dashboard``)."""
    spec = loaded.spec
    plan = PortPlan(tuple(fp for fp in plan_ports(spec).footprints if fp.profile == profile))
    gateway = target.runtime(engine).gateways(spec, plan)[0]
    if gateway.state != "running":
        raise NotRunning(
            f"the gateway of profile {profile!r} is not running ({gateway.state}); start it with "
            f"'openclaw-compose start {profile}' (or 'up'), see 'openclaw-compose ps'"
        )
    return gateway


def run_cli(
    loaded: LoadedSpec,
    directory: Path,
    engine: Engine,
    target: Target,
    profile: str,
    *,
    args: Sequence[str],
    tty: bool,
) -> int:
    """``openclaw ARGS`` in the profile's running gateway (``cli``); its exit code."""
    require_running(loaded, engine, target, profile)
    return target.runtime(engine).run_cli(loaded.spec, directory, profile, args, tty=tty)


def dashboard(
    loaded: LoadedSpec, directory: Path, engine: Engine, target: Target, profile: str
) -> str:
    """The Control UI URL of the profile's running gateway, signed in with its token from the
    project's ``.env`` (``dashboard``): the front's URL when a front serves the profile, else
    where the target says the gateway answers."""
    spec = loaded.spec
    gateway = require_running(loaded, engine, target, profile)
    ref = token_ref(spec, profile)
    token = stored_values(directory).get(ref.variable)
    if not token:
        raise UsageError(
            f"no token for profile {profile!r} in {directory / ENV_FILE} ({ref.variable}); run "
            "'openclaw-compose generate' (or up) there, or pass -o DIR"
        )
    return dashboard_url(front_url(spec, profile) or gateway.url, token)
