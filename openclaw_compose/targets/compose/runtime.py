"""Running a generated project: up (checks, preflight, generate, start, wait), down, status.

The CLI and :mod:`openclaw_compose.testing` share these, so a test brings gateways up exactly
the way a user does.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openclaw_compose.core.checks import Report
from openclaw_compose.core.contract import COMPOSE_FILE, SECRETS_LABEL
from openclaw_compose.core.envfile import ENV_FILE
from openclaw_compose.core.ports import Footprint, PortPlan
from openclaw_compose.core.project import CheckedSpec, generate
from openclaw_compose.core.secretstore import missing_secrets
from openclaw_compose.core.spec import Spec, token_variable
from openclaw_compose.engine.client import ContainerState, Engine
from openclaw_compose.errors import DockerError, NotReadyError, OutputError
from openclaw_compose.runtime.preflight import taken_ports
from openclaw_compose.runtime.probes import PROBES, connect_host, probe, wait_started

ProgressFn = Callable[[str], None]


@dataclass(frozen=True)
class GatewayStatus:
    profile: str
    url: str
    container: str | None
    state: str
    health: str | None
    probes: dict[str, int | None]
    ports: dict[str, Any]
    token: str
    """Where the token is: the ``.env`` variable, never the token itself."""
    node: str | None = None
    """Swarm: the hostname of the node its task runs on."""

    def to_json(self) -> dict[str, Any]:
        return {
            "profile": self.profile,
            "node": self.node,
            "url": self.url,
            "container": self.container,
            "state": self.state,
            "health": self.health,
            "probes": self.probes,
            "ports": self.ports,
            "token": self.token,
        }


def base_url(spec: Spec, fp: Footprint) -> str:
    return f"http://{connect_host(str(spec.publish_address))}:{fp.base}"


def dashboard_url(base: str, token: str) -> str:
    """The Control UI with the token in the URL fragment, which the browser never sends to the
    server and the UI reads to sign in: the URL is a credential."""
    return f"{base}/#token={token}"


def require_image(spec: Spec, engine: Engine) -> str:
    if not engine.image_exists(spec.image):
        raise DockerError(
            f"image {spec.image} is not present; build it with 'make image' "
            "(or set 'image:' in the profiles file to one you have)"
        )
    return spec.image


def require_secret_files(spec: Spec, engine: Engine) -> None:
    """Images built from an older entrypoint would not read the token and secrets from their
    files (the gateway would refuse to start without a token): say so now."""
    for image in sorted({profile.image(spec) for profile in spec.profiles.values()}):
        labels = engine.image_labels(image)
        if labels is not None and SECRETS_LABEL not in labels:
            raise DockerError(
                f"image {image} cannot read its token and secrets from files (it has no "
                f"{SECRETS_LABEL} label: built from an older images/gateway/); rebuild it "
                "with 'make image' ('images/build.sh --browser' for the browser image)"
            )


def secrets_report(checked: CheckedSpec, directory: Path, report: Report) -> Report:
    """``report`` plus every declared secret without a value, as an error: a gateway must not
    start without the keys its config refers to."""
    missing = missing_secrets(checked.loaded.spec, directory, "error")
    return Report(report.problems + tuple(missing))


def host_report(checked: CheckedSpec, engine: Engine) -> Report:
    """The spec's checks plus the host preflight: every port it publishes must be free."""
    spec, plan = checked.loaded.spec, checked.plan
    return Report(checked.report.problems + tuple(taken_ports(spec, plan, engine)))


def prepare(checked: CheckedSpec, directory: Path, engine: Engine, *, force: bool) -> None:
    """Everything before starting: image present, checks and host ports clean, files written."""
    require_image(checked.loaded.spec, engine)
    require_secret_files(checked.loaded.spec, engine)
    secrets_report(checked, directory, host_report(checked, engine)).fail_unless_ok()
    generate(checked, directory, force=force)


def up(
    checked: CheckedSpec,
    directory: Path,
    engine: Engine,
    *,
    timeout: float,
    progress: ProgressFn,
    force: bool = False,
) -> list[GatewayStatus]:
    prepare(checked, directory, engine, force=force)
    spec = checked.loaded.spec
    progress(f"starting {len(checked.plan.footprints)} gateway(s) of project {spec.project!r}")
    engine.compose(directory, "up", "--detach", "--remove-orphans")
    wait_ready(checked, engine, timeout=timeout, progress=progress)
    return status(spec, checked.plan, engine)


def wait_ready(
    checked: CheckedSpec, engine: Engine, *, timeout: float, progress: ProgressFn
) -> None:
    """Wait until every profile's /startupz answers 200; else say why, with its last logs."""
    spec = checked.loaded.spec
    urls = {fp.profile: base_url(spec, fp) for fp in checked.plan.footprints}
    progress(f"waiting up to {timeout:.0f} s for /startupz of {', '.join(urls)}")
    failed = wait_started(
        urls, timeout, lambda profile, seconds: progress(f"{profile} ready in {seconds:.1f} s")
    )
    if failed:
        containers = engine.project_containers(spec.project)
        raise NotReadyError(
            f"not ready after {timeout:.0f} s: {', '.join(failed)}. The gateways keep running; "
            "see 'openclaw-compose status' and 'openclaw-compose logs PROFILE'.\n"
            + "\n".join(_last_logs(engine, containers.get(profile), profile) for profile in failed)
        )


def _last_logs(engine: Engine, container: ContainerState | None, profile: str) -> str:
    if container is None:
        return f"--- {profile}: no container"
    lines = engine.logs(container.name, tail=20).rstrip()
    return f"--- last log lines of {profile} ({container.name}, {container.status}):\n{lines}"


def status(spec: Spec, plan: PortPlan, engine: Engine) -> list[GatewayStatus]:
    containers = engine.project_containers(spec.project)
    result = []
    for fp in plan.footprints:
        container = containers.get(fp.profile)
        url = base_url(spec, fp)
        running = container is not None and container.status == "running"
        result.append(
            GatewayStatus(
                profile=fp.profile,
                url=url,
                container=container.name if container else None,
                state=container.status if container else "missing",
                health=container.health if container else None,
                probes={name: probe(url, name) if running else None for name in PROBES},
                ports=fp.to_json(),
                token=f"{ENV_FILE}: {token_variable(fp.profile)}",
            )
        )
    return result


def down(spec: Spec, directory: Path, engine: Engine, *, volumes: bool) -> None:
    if not (directory / COMPOSE_FILE).exists():
        raise OutputError(
            f"{directory / COMPOSE_FILE}: not found; run 'down' where the project was "
            "generated, or pass -o DIR"
        )
    args = ["down", "--remove-orphans"] + (["--volumes"] if volumes else [])
    engine.compose(directory, *args)
    if volumes:
        leftover = engine.project_volumes(spec.project)
        if leftover:
            raise DockerError(f"volumes still present after down --volumes: {', '.join(leftover)}")
