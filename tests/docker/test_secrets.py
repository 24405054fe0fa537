"""Gateways that answer: two profiles, each with its own provider key as a secret, each pointed
at its own stand-in model provider on the host, started through the public testcontainers
helper. A chat turn through each gateway's OpenAI-compatible endpoint comes back with its own
provider's marker, each provider saw only its own key, no key is in a generated file (the store
aside), ``docker inspect`` or the logs; a key changed with ``secret set`` reaches the gateway at
the next ``up``; and each profile's Control UI signs in with its dashboard URL in the browser
image's headless Chromium, but not with the other profile's token."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from openclaw_compose.core.contract import SECRETS_DIR
from openclaw_compose.core.envfile import ENV_FILE
from openclaw_compose.core.secretstore import secret_files
from openclaw_compose.core.spec import DEFAULT_BROWSER_IMAGE
from openclaw_compose.engine import Engine
from openclaw_compose.testing import GatewayProject, openclaw_gateways
from tests.helpers import run_cli
from tests.standin_provider import MODEL, StandinProvider, standin_provider

from . import dockerkit

PROFILES = ("main", "rescue")
KEYS = {"main": "sk-main-6f1d0c2a", "rescue": "sk-rescue-93be7e44"}
NEW_KEY = "sk-main-rotated-5a0c"
GREETING = "costs 5$ ${HOME}"
"""A plain ``env:`` value that Compose would interpolate if it were not escaped."""


def provider_fragment(provider: StandinProvider) -> dict[str, Any]:
    """A profile's ``openclaw:``: its stand-in as the only model, its key from ``${...}``, the
    gateway's chat endpoint on."""
    return {
        "models": {"providers": {"standin": provider.provider_config("${PROVIDER_KEY}")}},
        "agents": {"defaults": {"model": {"primary": f"standin/{MODEL}"}}},
        "gateway": {"http": {"endpoints": {"chatCompletions": {"enabled": True}}}},
    }


def secrets_spec(providers: dict[str, StandinProvider]) -> dict[str, Any]:
    profiles = {
        name: {"port": 18789 + 1000 * i, "secrets": ["PROVIDER_KEY"], "env": {"GREETING": GREETING}}
        | {"openclaw": provider_fragment(providers[name])}
        for i, name in enumerate(PROFILES)
    }
    return {"profiles": profiles}


@dataclass(frozen=True)
class Running:
    project: GatewayProject
    providers: dict[str, StandinProvider]


@pytest.fixture(scope="module")
def running(engine: Engine) -> Iterator[Running]:
    with (
        standin_provider("MARKER-main-7d2", dockerkit.bridge_address()) as main,
        standin_provider("MARKER-rescue-c41", dockerkit.bridge_address()) as rescue,
    ):
        providers = {"main": main, "rescue": rescue}
        secrets = {name: {"PROVIDER_KEY": KEYS[name]} for name in PROFILES}
        with openclaw_gateways(secrets_spec(providers), secrets=secrets) as project:
            yield Running(project, providers)


def test_each_gateway_answers_with_its_own_provider(running: Running) -> None:
    for profile in PROFILES:
        reply = running.project[profile].chat("Say something.")
        assert reply.strip() == running.providers[profile].marker, profile
    for profile, provider in running.providers.items():
        assert provider.chats >= 1, profile
        seen = {auth for auth in provider.authorizations if auth}
        assert seen == {f"Bearer {KEYS[profile]}"}, profile


def test_keys_are_only_in_the_store(engine: Engine, running: Running) -> None:
    """In .env and in the files Compose mounts (secrets/, the only other private place), and
    nowhere else: no other file, not the container's inspect, not its logs."""
    directory = running.project.directory
    env, folder = directory / ENV_FILE, directory / SECRETS_DIR
    assert oct(env.stat().st_mode & 0o777) == "0o600"
    assert oct(folder.stat().st_mode & 0o777) == "0o700"
    for key in KEYS.values():
        assert key in env.read_text()
        for path in directory.rglob("*"):
            if path.is_file() and path != env and path.parent != folder:
                assert key not in path.read_text(errors="replace"), path
    assert {p.name: p.read_text() for p in folder.iterdir()} == {
        name[len(SECRETS_DIR) + 1 :]: data.decode()
        for name, data in secret_files(env.read_text()).items()
    }
    containers = engine.containers.project_containers(running.project.project)
    for profile in PROFILES:
        name = containers[profile].name
        inspected = dockerkit.inspect_container(name)
        assert f"GREETING={GREETING}" in inspected["Config"]["Env"]
        attrs = json.dumps(inspected)
        logs = engine.containers.logs(name, tail=10000)
        for key in (*KEYS.values(), running.project[profile].token):
            assert key not in attrs, profile
            assert key not in logs, profile
        assert '"OPENCLAW_COMPOSE_SECRETS=OPENCLAW_GATEWAY_TOKEN,PROVIDER_KEY"' in attrs


def test_cli_runs_with_the_gateways_token(
    running: Running, capfd: pytest.CaptureFixture[str]
) -> None:
    status = run_cli("cli", "rescue", *_where(running), "--", "gateway", "status")
    assert status.exit_code == 0, status.output
    assert "Connectivity probe: ok" in capfd.readouterr().out  # no --token given


def test_secret_set_reaches_the_gateway_at_the_next_up(engine: Engine, running: Running) -> None:
    where = _where(running)
    before = {
        p: _id(engine, c.name)
        for p, c in engine.containers.project_containers(running.project.project).items()
    }
    listed = run_cli("secret", "list", *where, "--json")
    assert listed.exit_code == 0, listed.output
    assert all(s["set"] for s in json.loads(listed.stdout)["secrets"])
    assert run_cli("secret", "set", "main", "PROVIDER_KEY", *where, input=NEW_KEY).exit_code == 0
    up = run_cli("up", *where, "--timeout", "240")
    assert up.exit_code == 0, up.output
    after = {
        p: _id(engine, c.name)
        for p, c in engine.containers.project_containers(running.project.project).items()
    }
    assert after["main"] != before["main"]  # recreated: its digest label changed
    assert after["rescue"] == before["rescue"]
    provider = running.providers["main"]
    provider.authorizations.clear()
    assert running.project["main"].chat("Again.").strip() == provider.marker
    assert {auth for auth in provider.authorizations if auth} == {f"Bearer {NEW_KEY}"}


def _id(engine: Engine, container: str) -> str:
    return str(dockerkit.inspect_container(container)["Id"])


def _where(running: Running) -> list[str]:
    directory = running.project.directory
    return ["-f", str(directory / "openclaw-compose.yaml"), "-o", str(directory)]


def test_dashboard_signs_in_with_its_own_token_only(engine: Engine, running: Running) -> None:
    urls = {}
    for profile in PROFILES:
        result = run_cli("dashboard", profile, *_where(running), "--json")
        assert result.exit_code == 0, result.output
        data = json.loads(result.stdout)
        assert data["credential"] is True
        assert data["url"] == running.project[profile].dashboard_url
        urls[profile] = data["url"]
    containers = engine.containers.project_containers(running.project.project)
    for profile in PROFILES:
        since = int(time.time())
        _open_in_chromium(urls[profile])
        log = dockerkit.logs_since(containers[profile].name, since)
        assert "webchat connected" in log, log[-3000:]
    main_with_rescue_token = urls["main"].split("#")[0] + "#" + urls["rescue"].split("#")[1]
    since = int(time.time())
    _open_in_chromium(main_with_rescue_token)
    log = dockerkit.logs_since(containers["main"].name, since)
    assert "webchat connected" not in log
    assert "token mismatch" in log or "unauthorized" in log, log[-3000:]


def _open_in_chromium(url: str, seconds: int = 20) -> None:
    """The browser image's Chromium, headless, on the host network, for ``seconds``."""
    script = (
        f"timeout {seconds} chromium --headless=new --no-sandbox --disable-gpu "
        '--user-data-dir=/tmp/profile "$URL" >/dev/null 2>&1; true'
    )
    dockerkit.run_to_end(DEFAULT_BROWSER_IMAGE, script, {"URL": url})
