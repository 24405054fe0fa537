"""Real OpenClaw gateways in your tests, through testcontainers' ``DockerCompose``.

A context manager, :func:`openclaw_gateways`, and a pytest fixture, ``openclaw_project``
(registered by the package's ``pytest11`` entry point; override the ``openclaw_spec`` fixture
to choose the profiles). Each use generates the project from a spec (or the embedded main +
rescue default) into a temporary directory under a unique project name, moves every profile to
a free block of host ports (so that tests run next to your own gateways), writes the effective
spec there as ``openclaw-compose.yaml`` (so that the CLI works in that directory), runs the same
checks and host preflight as ``openclaw-compose up``, starts it with testcontainers, waits until
every ``/startupz`` answers 200, and always tears it down, volumes included. Secret values given
to :func:`openclaw_gateways` go into that project's store (its ``.env``), exactly as
``openclaw-compose secret set`` puts them there; :meth:`GatewayEndpoint.chat` sends one chat
turn through a gateway's OpenAI-compatible endpoint.

testcontainers (the ``testing`` extra) is imported only when gateways start: pytest loads this
plugin wherever openclaw-compose is installed, and must keep working without the extra.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from secrets import randbelow, token_hex
from typing import Any

import pytest

from openclaw_compose.core.contract import dashboard_url
from openclaw_compose.core.envfile import ENV_FILE, read_env
from openclaw_compose.core.loading import DEFAULT_SPEC_FILE, LoadedSpec, load_spec, validate
from openclaw_compose.core.native import discover
from openclaw_compose.core.ports import FOOTPRINT_SPAN, RECOMMENDED_SPACING, plan_ports
from openclaw_compose.core.secretstore import clean_value, set_secret
from openclaw_compose.core.spec import DEFAULT_SPEC_DATA, OpenClawFragment, Spec, token_variable
from openclaw_compose.core.writing import update_env
from openclaw_compose.engine import DockerEngine
from openclaw_compose.host.preflight import can_bind
from openclaw_compose.host.system import default_home, host_view
from openclaw_compose.project import check_loaded
from openclaw_compose.runtime.ownership import record_volume
from openclaw_compose.runtime.pipeline import prepare, wait_ready
from openclaw_compose.targets.base import ProgressFn
from openclaw_compose.targets.compose.render import COMPOSE_FILE
from openclaw_compose.targets.compose.runtime import base_url

FREE_PORTS_FROM, FREE_PORTS_TO = 20000, 32000
PORTS_VARIABLE = "OPENCLAW_COMPOSE_TEST_PORTS"
"""``LOW-HIGH``: the window :func:`free_base` picks from, instead of 20000-32000 (e.g. to stay
clear of ports your own gateways come and go on; probing only sees the ones bound right now)."""
_reserved: set[int] = set()
_reserved_lock = threading.Lock()


@dataclass(frozen=True)
class GatewayEndpoint:
    """How a test reaches one running gateway."""

    profile: str
    base_url: str
    ws_url: str
    token: str
    port: int
    browser_control_port: int
    cdp_ports: tuple[int, int]
    """The inclusive CDP range published for the profile."""

    @property
    def dashboard_url(self) -> str:
        """The Control UI, signed in with the token (a credential: do not log it)."""
        return dashboard_url(self.base_url, self.token)

    def chat(self, message: str, *, timeout: float = 180) -> str:
        """One agent turn through ``POST /v1/chat/completions``; the reply's text.

        Needs ``gateway.http.endpoints.chatCompletions.enabled: true`` in the profile's
        ``openclaw:`` fragment and a model provider the gateway can reach."""
        body = {"model": "openclaw", "messages": [{"role": "user", "content": message}]}
        request = urllib.request.Request(
            f"{self.base_url}/v1/chat/completions",
            data=json.dumps(body).encode(),
            headers={"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=timeout) as response:
            reply = json.load(response)
        return str(reply["choices"][0]["message"]["content"])


@dataclass(frozen=True)
class GatewayProject:
    project: str
    directory: Path
    gateways: Mapping[str, GatewayEndpoint]

    def __getitem__(self, profile: str) -> GatewayEndpoint:
        return self.gateways[profile]


def release_base(base: int) -> None:
    with _reserved_lock:
        _reserved.discard(base)


@contextmanager
def openclaw_gateways(
    spec: Path | Mapping[str, Any] | None = None,
    *,
    secrets: Mapping[str, Mapping[str, str]] | None = None,
    free_ports: bool = True,
    timeout: float = 300,
    progress: ProgressFn | None = None,
) -> Iterator[GatewayProject]:
    """Run the gateways of ``spec`` (a profiles file, its data, or None for the default);
    ``secrets``: ``{profile: {NAME: value}}`` for the secrets the profiles declare."""
    loaded = _load(spec)
    project = f"octest-{token_hex(4)}"
    with tempfile.TemporaryDirectory(prefix=f"{project}-") as tmp:
        directory = Path(tmp)
        spec_obj = loaded.spec.model_copy(update={"project": project})
        reserved: list[int] = []
        try:
            if free_ports:
                spec_obj, reserved = _on_free_ports(spec_obj)
            spec_file = directory / DEFAULT_SPEC_FILE
            spec_file.write_text(json.dumps(spec_obj.to_document(), indent=2) + "\n")
            checked = check_loaded(LoadedSpec(spec_obj, str(spec_file), directory))
            if secrets:
                update_env(directory, lambda text: _stored(spec_obj, text, secrets))
            engine = DockerEngine()
            found = prepare(checked, directory, engine, force=False)
            compose = _docker_compose(directory)
            try:
                compose.start()
                wait_ready(checked, engine, found, timeout=timeout, progress=progress or _quiet)
                yield GatewayProject(project, directory, gateway_endpoints(spec_obj, directory))
            finally:
                compose.stop(down=True)
                _forget_owner(engine, project)
        finally:
            for base in reserved:
                release_base(base)


def _forget_owner(engine: DockerEngine, project: str) -> None:
    """The owner record a test's own ``up`` in the project's directory made: Compose's ``down``
    does not know it, and nothing of the throwaway project is left for it to protect."""
    if engine.containers.volume_exists(record := record_volume(project)):
        engine.containers.remove_volume(record)


def _docker_compose(directory: Path) -> Any:
    """testcontainers' ``DockerCompose`` for the project in ``directory``, imported only now
    (see the module's docstring)."""
    try:
        from testcontainers.compose import DockerCompose  # noqa: PLC0415
    except ImportError:
        raise RuntimeError(
            "openclaw_gateways needs testcontainers: pip install 'openclaw-compose[testing]'"
        ) from None
    return DockerCompose(directory, compose_file_name=COMPOSE_FILE, wait=False)


def _stored(spec: Spec, text: str | None, secrets: Mapping[str, Mapping[str, str]]) -> str:
    """``.env`` text with every value of ``secrets`` stored, as ``secret set`` stores it."""
    for profile, values in secrets.items():
        for name, value in values.items():
            text = set_secret(spec, text, profile, name, clean_value(value))
    return text or ""


def _quiet(_: str) -> None:
    """Progress goes nowhere unless the caller asks for it."""


def _load(spec: Path | Mapping[str, Any] | None) -> LoadedSpec:
    if isinstance(spec, Path):
        return load_spec(spec)
    data = DEFAULT_SPEC_DATA if spec is None else spec
    return LoadedSpec(validate(data, source="<openclaw_gateways>"), "<openclaw_gateways>", Path())


def gateway_endpoints(spec: Spec, directory: Path) -> dict[str, GatewayEndpoint]:
    """How a test reaches each gateway of ``spec``'s project written in ``directory`` (its
    token from the project's ``.env``), from this host."""
    env = read_env((directory / ENV_FILE).read_bytes().decode())
    endpoints = {}
    for fp in plan_ports(spec).footprints:
        url = base_url(spec, fp)
        endpoints[fp.profile] = GatewayEndpoint(
            profile=fp.profile,
            base_url=url,
            ws_url="ws" + url.removeprefix("http"),
            token=env[token_variable(fp.profile)],
            port=fp.base,
            browser_control_port=fp.browser_control,
            cdp_ports=fp.cdp,
        )
    return endpoints


def _on_free_ports(spec: Spec) -> tuple[Spec, list[int]]:
    """Move every profile to a free block of ports; explicit cdpPorts move with it."""
    address = str(spec.publish_address)
    profiles = {}
    bases = []
    for name, profile in spec.profiles.items():
        base = free_base(address)
        bases.append(base)
        shift = base - profile.port
        fragment = profile.openclaw.as_config()
        for browser in fragment.get("browser", {}).get("profiles", {}).values():
            if isinstance(browser.get("cdpPort"), int):
                browser["cdpPort"] += shift
        profiles[name] = profile.model_copy(
            update={"port": base, "openclaw": OpenClawFragment.model_validate(fragment)}
        )
    return spec.model_copy(update={"profiles": profiles}), bases


def free_base(address: str = "127.0.0.1") -> int:
    """A base port whose whole footprint is free, reserved for this process until released.
    The footprints of the user's native gateways are not free even when nothing is bound
    there (the checks would refuse them: ``native-overlap``)."""
    low, high = port_window()
    natives = set().union(*(native.ports() for native in discover(default_home(), host_view())))
    span = high - low
    start = low + randbelow(max(1, span // RECOMMENDED_SPACING)) * RECOMMENDED_SPACING
    with _reserved_lock:
        for step in range(0, span, RECOMMENDED_SPACING):
            base = low + (start - low + step) % span
            if base in _reserved or base + FOOTPRINT_SPAN > high:
                continue
            if not natives.isdisjoint(range(base, base + FOOTPRINT_SPAN + 1)):
                continue
            if all(can_bind(address, port) for port in range(base, base + FOOTPRINT_SPAN + 1)):
                _reserved.add(base)
                return base
    raise RuntimeError(f"no free block of {FOOTPRINT_SPAN + 1} ports on {address} in {low}-{high}")


def port_window() -> tuple[int, int]:
    """Read when called, not at import, so that tests and users can set it at any time."""
    value = os.environ.get(PORTS_VARIABLE, "").strip()
    if not value:
        return FREE_PORTS_FROM, FREE_PORTS_TO
    low, sep, high = value.partition("-")
    if not (sep and low.isdigit() and high.isdigit() and 0 < int(low) < int(high) <= 65535):
        raise RuntimeError(f"{PORTS_VARIABLE}={value!r}: expected LOW-HIGH, e.g. 25000-32000")
    return int(low), int(high)


@pytest.fixture
def openclaw_spec() -> Path | Mapping[str, Any] | None:
    """The spec ``openclaw_project`` runs; override it in your conftest (None: main + rescue)."""
    return None


@pytest.fixture
def openclaw_project(
    openclaw_spec: Path | Mapping[str, Any] | None,
) -> Iterator[GatewayProject]:
    """Running gateways for one test, torn down (volumes included) afterwards."""
    with openclaw_gateways(openclaw_spec) as project:
        yield project
