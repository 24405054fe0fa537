"""Versions, backups and upgrades against the real engine and two real OpenClaw releases.

One project (main + rescue, started on the previous release) goes through, in order: a backup,
``down --volumes`` and a restore; a failed upgrade to an image whose gateway exits 78; a real
upgrade to the tested release while a sampler probes both gateways every 0.5 s. Each gateway
starts with state that matters: a marker file, a workspace note, and the session of one chat
turn through a stand-in model provider on the host (its key a secret of the profile, as in
``test_secrets.py``). After every step the marker, the note and the sessions (ids and keys, from
``openclaw sessions --json``) are the ones recorded at the start. It needs the image of the
previous release: ``make previous-image``.
"""

from __future__ import annotations

import json
import tarfile
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from openclaw_compose.core.loading import load_spec
from openclaw_compose.core.ports import FOOTPRINT_SPAN
from openclaw_compose.core.spec import OPENCLAW_VERSION, gateway_image
from openclaw_compose.engine import Engine
from openclaw_compose.errors import ExitCode
from openclaw_compose.host.preflight import can_bind
from openclaw_compose.testing import GatewayEndpoint, gateway_endpoints, release_base
from tests.docker import dockerkit
from tests.docker.conftest import PREVIOUS_VERSION, Sampler, spec_with_free_ports, upgrade_sampled
from tests.helpers import run_cli
from tests.standin_provider import StandinProvider, standin_provider

from .test_secrets import KEYS, provider_fragment

MARKER = "/home/node/.openclaw/upgrade-marker.txt"
NOTE = "/home/node/workspace/notes.md"
PROFILES = ("main", "rescue")
Sessions = set[tuple[str, str]]
"""A gateway's sessions as (session id, key) pairs."""


@dataclass
class Project:
    directory: Path
    spec_file: Path
    project: str
    ports: dict[str, int]
    contents: dict[str, str] = field(default_factory=dict)
    sessions: dict[str, Sessions] = field(default_factory=dict)
    """Each profile's sessions after its one chat turn on the previous release."""

    def cli(self, *args: str | Path, input: str | None = None) -> tuple[int, str, str]:
        result = run_cli(*args, "-f", self.spec_file, "-o", self.directory, input=input)
        return result.exit_code, result.stdout, result.stderr

    def container(self, engine: Engine, profile: str) -> str:
        return engine.containers.project_containers(self.project)[profile].name

    def read(self, engine: Engine, profile: str, path: str) -> str:
        code, output = engine.containers.exec(self.container(engine, profile), ["cat", path])
        assert code == 0, output
        return output

    def gateway(self, profile: str) -> GatewayEndpoint:
        """How a test reaches the profile's gateway (the token from the project's store)."""
        return gateway_endpoints(load_spec(self.spec_file).spec, self.directory)[profile]

    def list_sessions(self, engine: Engine, profile: str) -> Sessions:
        """``openclaw sessions --json`` in the profile's container (the JSON may follow other
        output)."""
        code, output = engine.containers.exec(
            self.container(engine, profile), ["openclaw", "sessions", "--json"]
        )
        assert code == 0, output
        listing, _ = json.JSONDecoder().raw_decode(output, output.index("{"))
        return {(s["sessionId"], s["key"]) for s in listing["sessions"]}

    def assert_state(self, engine: Engine, profile: str) -> None:
        """The marker, the note and the sessions are the ones the fixture recorded."""
        assert self.read(engine, profile, MARKER) == self.contents[profile]
        assert self.read(engine, profile, NOTE) == f"{profile}\n"
        assert self.list_sessions(engine, profile) == self.sessions[profile], profile

    def version(self, engine: Engine, profile: str) -> str:
        code, output = engine.containers.exec(
            self.container(engine, profile), ["openclaw", "--version"]
        )
        assert code == 0, output
        return output


@pytest.fixture(scope="module")
def provider() -> Iterator[StandinProvider]:
    """The model provider of both gateways, on the host's loopback (the gateways share the
    host's network), running for the whole module."""
    with standin_provider("MARKER-upgrade-5e8", dockerkit.bridge_address()) as running:
        yield running


@pytest.fixture(scope="module")
def project(
    engine: Engine, provider: StandinProvider, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Project]:
    if engine.containers.image_labels(gateway_image(PREVIOUS_VERSION)) is None:
        pytest.fail(f"image of OpenClaw {PREVIOUS_VERSION} missing: run 'make previous-image'")
    directory = tmp_path_factory.mktemp("upgrade")
    bases: list[int] = []
    spec_file = spec_with_free_ports(directory, bases, *PROFILES)
    fragment = provider_fragment(provider)
    # No scheduled heartbeat: its turn adds an agent:main:cron: session whenever its tick falls
    # inside the module (seen in CI), and the sessions must stay exactly the recorded ones.
    fragment["agents"]["defaults"]["heartbeat"] = {"every": "0m"}
    chat = f"    secrets: [PROVIDER_KEY]\n    openclaw: {json.dumps(fragment)}\n"
    text = spec_file.read_text().replace(
        "profiles:", f'openclaw_version: "{PREVIOUS_VERSION}"\nprofiles:'
    )
    text = text.replace("  main:\n", "  main:\n" + chat)
    spec_file.write_text(text.replace("  rescue:\n", "  rescue:\n    role: rescue\n" + chat))
    name = text.splitlines()[0].split(": ")[1]
    made = Project(directory, spec_file, name, dict(zip(PROFILES, bases, strict=True)))
    try:
        for profile in PROFILES:
            code, out, err = made.cli("secret", "set", profile, "PROVIDER_KEY", input=KEYS[profile])
            assert code == 0, out + err
        code, out, err = made.cli("up", "--timeout", "300")
        assert code == 0, out + err
        for profile in PROFILES:
            container = made.container(engine, profile)
            made.contents[profile] = f"{profile} state from OpenClaw {PREVIOUS_VERSION}\n"
            script = f"printf %s '{made.contents[profile]}' > {MARKER} && echo {profile} > {NOTE}"
            code, output = engine.containers.exec(container, ["sh", "-c", script])
            assert code == 0, output
            reply = made.gateway(profile).chat(f"Hello from {profile}.", timeout=300)
            assert reply.strip() == provider.marker, profile
            assert f"Bearer {KEYS[profile]}" in provider.authorizations, profile
            made.sessions[profile] = made.list_sessions(engine, profile)
            assert made.sessions[profile], f"{profile}: the chat turn left no session"
            print(f"{profile}: sessions {sorted(made.sessions[profile])}")
        yield made
    finally:
        made.cli("down", "--volumes", "--yes")
        for base in bases:
            release_base(base)


def test_backup_down_volumes_restore_up(engine: Engine, project: Project) -> None:
    backups = project.directory / "manual-backups"
    started = time.monotonic()
    result = run_cli("backup", "--all", "-f", project.spec_file, "-o", backups)
    assert result.exit_code == 0, result.output
    seconds = time.monotonic() - started
    archives = {p.name.split("-")[2]: p for p in backups.iterdir()}
    assert set(archives) == {"main", "rescue"}, archives
    for archive in archives.values():
        assert archive.stat().st_mode & 0o077 == 0, "a backup holds credentials: mode 0600"
        with tarfile.open(archive) as tar:
            assert sorted(tar.getnames()) == ["manifest.json", "openclaw-backup.tar.gz"]
            manifest = json.load(tar.extractfile("manifest.json"))  # type: ignore[arg-type]
        assert manifest["openclaw_version"] == PREVIOUS_VERSION
        assert len(manifest["sha256"]) == 64
    sizes = {profile: archive.stat().st_size for profile, archive in archives.items()}
    print(f"backup of main + rescue: {seconds:.1f} s, bytes {sizes}")

    code, out, err = project.cli("down", "--volumes", "--yes")
    assert code == 0, out + err
    damaged = backups / "damaged.tar"
    _damage(archives["main"], damaged)
    code, out, err = project.cli("restore", "main", damaged)
    assert code == ExitCode.ARCHIVE, out + err
    assert "checksum mismatch" in err
    for profile, archive in archives.items():
        code, out, err = project.cli("restore", profile, archive)
        assert code == 0, out + err
    code, out, err = project.cli("restore", "main", archives["main"])
    assert code == ExitCode.ARCHIVE, out + err
    assert "--force" in err

    waited = _wait_until_bindable(project.ports.values())
    print(f"footprints bindable after {waited:.1f} s")
    code, out, err = project.cli("up", "--timeout", "300")
    assert code == 0, f"{out}{err}(waited {waited:.0f} s for the ports)"
    for profile in PROFILES:
        project.assert_state(engine, profile)


def _wait_until_bindable(bases: Iterable[int], timeout: float = 75) -> float:
    """Wait until every port of the footprints at ``bases`` can be bound; the seconds waited.

    A client connection to a gateway (a probe, the chat, the CLI in a container) takes an
    ephemeral port, and the test's port window may lie in the host's ephemeral range: the client
    port can be one of a footprint's, and after the client closes it stays in TIME_WAIT for 60 s,
    unbindable (``up``'s preflight calls it taken). After ``timeout`` the preflight reports it."""
    started = time.monotonic()
    ports = [port for base in bases for port in range(base, base + FOOTPRINT_SPAN + 1)]
    while time.monotonic() - started < timeout:
        if all(can_bind("127.0.0.1", port) for port in ports):
            break
        time.sleep(1)
    return time.monotonic() - started


def _damage(archive: Path, damaged: Path) -> None:
    """The same archive with one byte of its payload changed (the manifest kept)."""
    with tarfile.open(archive) as tar:
        payload = tar.getmember("openclaw-backup.tar.gz")
    data = bytearray(archive.read_bytes())
    data[payload.offset_data + payload.size // 2] ^= 0xFF
    damaged.write_bytes(bytes(data))


def test_failed_upgrade_restores_the_rescue_and_never_stops_main(
    engine: Engine, project: Project, broken_image: str
) -> None:
    main_started = engine.containers.project_containers(project.project)["main"].started_at
    spec_before = project.spec_file.read_text()
    with Sampler({"main": project.ports["main"]}) as sampler:
        code, out, err = project.cli("upgrade", "--image", broken_image, "--timeout", "120")
    assert code == ExitCode.UPGRADE_FAILED, out + err
    assert "profile 'rescue' failed" in err, err
    assert "exited with code 78" in err
    assert "state cannot be migrated safely" in err, "the gateway's last log lines are shown"
    assert "runs openclaw-compose/gateway:2026.9.5 again" in err, err
    assert sampler.samples
    assert all(s["main"] == 200 for s in sampler.samples), sampler.samples
    containers = engine.containers.project_containers(project.project)
    assert containers["main"].started_at == main_started, "main was stopped"
    assert PREVIOUS_VERSION in project.version(engine, "rescue")
    for profile in PROFILES:
        project.assert_state(engine, profile)
    assert project.spec_file.read_text() == spec_before


def test_upgrade_keeps_one_gateway_answering_and_the_state(
    engine: Engine, project: Project
) -> None:
    upgrade_sampled(project.cli, project.ports, "upgrade of rescue + main")
    for profile in PROFILES:
        assert f"OpenClaw {OPENCLAW_VERSION}" in project.version(engine, profile)
        project.assert_state(engine, profile)
    assert f'openclaw_version: "{OPENCLAW_VERSION}"' in project.spec_file.read_text()
    status = json.loads(run_cli("status", "--json", "-f", project.spec_file).stdout)
    assert {p["profile"]: p["version"] for p in status["profiles"]} == {
        "main": OPENCLAW_VERSION,
        "rescue": OPENCLAW_VERSION,
    }
    # A backup of the new version cannot go back onto the old image.
    newer = project.directory / "newer"
    assert run_cli("backup", "main", "-f", project.spec_file, "-o", newer).exit_code == 0
    current = project.spec_file.read_text()  # the same file: the project belongs to it
    project.spec_file.write_text(current.replace(OPENCLAW_VERSION, PREVIOUS_VERSION))
    (archive,) = newer.iterdir()
    try:
        refused = run_cli(
            "restore", "main", archive, "-f", project.spec_file, "-o", project.directory, "--force"
        )
    finally:
        project.spec_file.write_text(current)
    assert refused.exit_code == ExitCode.ARCHIVE, refused.output
    assert "newer than" in refused.stderr
