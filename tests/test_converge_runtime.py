"""The converge step and the fail-fast wait on the in-memory engine: what is patched in which
container, what is recorded, what is left alone; a crash loop ends ``up`` at once."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from openclaw_compose.cli import common
from openclaw_compose.core.contract import (
    APPLIED_PATH,
    CONFIG_PATH,
    PATCH_PATH,
    SEED_TARGET,
    seed_config,
    seed_text,
)
from openclaw_compose.core.loading import load_spec
from openclaw_compose.core.spec import DEFAULT_IMAGE
from openclaw_compose.engine.records import ContainerState
from openclaw_compose.errors import DockerError, ExitCode
from openclaw_compose.runtime.converge import converge
from openclaw_compose.targets.compose.runtime import ComposeRuntime
from openclaw_compose.testing import free_base, release_base

from .fakes import FakeEngine
from .helpers import run_cli, write_tree

SPEC = """project: conv
profiles:
  main:
    port: 18789
    openclaw: {agents: {defaults: {timeoutSeconds: 100}}}
  other:
    port: 19789
"""


class _Gateways(FakeEngine):
    """Two running containers whose config files answer ``cat``; ``config patch`` logs a hot
    reload."""

    def __init__(self, files: dict[tuple[str, str], str]) -> None:
        super().__init__()
        self.texts = files
        self.commands: list[tuple[str, tuple[str, ...]]] = []
        self.containers.containers["conv"] = {
            name: ContainerState(f"conv-{name}-1", name, "running", "healthy", 0, 1)
            for name in ("main", "other")
        }
        self.containers.exec = self._exec  # type: ignore[method-assign]

    def _exec(self, container: str, command: Sequence[str]) -> tuple[int, str]:
        self.commands.append((container, tuple(command)))
        if command[0] == "cat":
            text = self.texts.get((container, command[1]))
            return (0, text) if text is not None else (1, "No such file")
        if "patch" in command:
            self.containers.log_text = "2026-12-04T17:10:29 [reload] config hot reload applied\n"
            return (
                0,
                "Applied 1 config update(s). Change will apply without restarting the gateway.",
            )
        return 0, ""


def _converge(engine: FakeEngine, tmp_path: Path) -> list[str]:
    write_tree(tmp_path, {"spec.yaml": SPEC})
    spec = load_spec(tmp_path / "spec.yaml").spec
    urls = {"main": "http://127.0.0.1:1", "other": "http://127.0.0.1:2"}
    return converge(spec, ComposeRuntime(engine), urls, timeout=0.1, progress=lambda _: None)


def test_only_the_changed_profile_is_patched_and_both_recorded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_tree(tmp_path, {"spec.yaml": SPEC})
    spec = load_spec(tmp_path / "spec.yaml").spec
    main, other = (seed_config(spec.profiles[name]) for name in ("main", "other"))
    live_main = json.loads(json.dumps(main))
    live_main["agents"]["defaults"] |= {"timeoutSeconds": 300, "mine": 1}
    applied_main = json.loads(json.dumps(main))
    applied_main["gone"] = {"key": True}
    live_main["gone"] = {"key": True}
    engine = _Gateways(
        {
            ("conv-main-1", CONFIG_PATH): json.dumps(live_main),
            ("conv-main-1", APPLIED_PATH): json.dumps(applied_main),
            ("conv-other-1", CONFIG_PATH): json.dumps(other),  # no record yet: written only
        }
    )
    monkeypatch.setattr("openclaw_compose.runtime.converge.wait_started", lambda *_, **__: [])
    assert _converge(engine, tmp_path) == ["main"]
    files = engine.containers.files
    assert json.loads(files[("conv-main-1", PATCH_PATH)]) == {
        "agents": {"defaults": {"timeoutSeconds": 100}},
        "gone": {"key": None},
    }
    assert ("conv-other-1", PATCH_PATH) not in files
    assert json.loads(files[("conv-main-1", APPLIED_PATH)]) == main
    assert json.loads(files[("conv-other-1", APPLIED_PATH)]) == other
    patched = [c for c, command in engine.commands if "patch" in command]
    assert patched == ["conv-main-1"]


def test_a_gateway_as_seeded_gets_its_record_before_its_seed_can_change(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Nothing to patch and no record yet (the first up): the record is written all the same.
    Without it, the next up reads "applied" from the seed mounted in the container, and a swarm
    task made for a changed fragment mounts the new seed: a key removed from the file looked
    never applied, and was kept (seen on the one-node swarm, ``test_swarm_day2.py``)."""
    write_tree(tmp_path, {"spec.yaml": SPEC})
    spec = load_spec(tmp_path / "spec.yaml").spec
    seeds = {name: json.dumps(seed_config(spec.profiles[name])) for name in ("main", "other")}
    engine = _Gateways(
        {
            (f"conv-{name}-1", path): seed
            for name, seed in seeds.items()
            for path in (CONFIG_PATH, SEED_TARGET)
        }
    )
    monkeypatch.setattr("openclaw_compose.runtime.converge.wait_started", lambda *_, **__: [])
    assert _converge(engine, tmp_path) == []  # nothing patched
    for name, seed in seeds.items():
        assert json.loads(engine.containers.files[(f"conv-{name}-1", APPLIED_PATH)]) == json.loads(
            seed
        )
    assert not [c for c, command in engine.commands if "patch" in command]


FRONTED = SPEC.replace("project: conv\n", "project: conv\nfront: {tls: local}\n").replace(
    "    port: 18789\n", "    port: 18789\n    hostname: main.example.org\n"
)


def test_the_fronts_keys_are_the_files_own(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A gateway seeded behind the front keeps the front's allowed origin and trusted proxies
    (the first converge on swarm unset them: they were in the seed, not in what converge
    wanted); once the front leaves the file, they are unset."""
    monkeypatch.setattr("openclaw_compose.runtime.converge.wait_started", lambda *_, **__: [])
    write_tree(tmp_path, {"spec.yaml": FRONTED})
    seed = seed_text(load_spec(tmp_path / "spec.yaml").spec, "main")
    assert '"trustedProxies"' in seed
    files = {("conv-main-1", path): seed for path in (CONFIG_PATH, SEED_TARGET)}
    engine = _Gateways(files)
    urls = {"main": "http://127.0.0.1:1"}
    spec = load_spec(tmp_path / "spec.yaml").spec
    assert converge(spec, ComposeRuntime(engine), urls, timeout=0.1, progress=print) == []
    assert json.loads(engine.containers.files[("conv-main-1", APPLIED_PATH)]) == json.loads(seed)
    write_tree(tmp_path, {"spec.yaml": SPEC})
    engine = _Gateways(files | {("conv-main-1", APPLIED_PATH): seed})
    spec = load_spec(tmp_path / "spec.yaml").spec
    assert converge(spec, ComposeRuntime(engine), urls, timeout=0.1, progress=print) == ["main"]
    patch = json.loads(engine.containers.files[("conv-main-1", PATCH_PATH)])
    assert patch["gateway"] == {"controlUi": {"allowedOrigins": None}, "trustedProxies": None}


def test_a_refused_patch_is_a_docker_error_naming_the_profile(tmp_path: Path) -> None:
    engine = _Gateways({})

    def refuse(container: str, command: Sequence[str]) -> tuple[int, str]:
        if "patch" in command:
            return 1, "Error: config schema validation failed"
        return (0, "{}") if command[0] == "cat" else (1, "")  # a config, and no record yet

    engine.containers.exec = refuse  # type: ignore[method-assign]
    with pytest.raises(DockerError) as raised:
        _converge(engine, tmp_path)
    assert "refused the config of profile 'main'" in raised.value.message
    assert "schema validation failed" in raised.value.message


@pytest.fixture
def base() -> Iterator[int]:
    port = free_base()
    yield port
    release_base(port)


def test_a_crash_loop_ends_up_at_once_with_exit_code_and_logs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, base: int
) -> None:
    engine = FakeEngine().with_images(DEFAULT_IMAGE)
    engine.containers.log_text = "state cannot be migrated safely\n"
    monkeypatch.setattr(common, "connect", lambda: engine)
    up = engine.compose.run

    def crash_looping(directory: Path, *args: str) -> str:
        output = up(directory, *args)
        project: dict[str, Any] = engine.containers.containers.get("crash", {})
        for name, state in project.items():
            project[name] = ContainerState(state.name, name, "restarting", None, 3, 0, exit_code=78)
        return output

    monkeypatch.setattr(engine.compose, "run", crash_looping)
    write_tree(tmp_path, {"spec.yaml": f"project: crash\nprofiles:\n  solo:\n    port: {base}\n"})
    start = time.monotonic()
    result = run_cli("up", "-f", tmp_path / "spec.yaml", "-o", tmp_path / "out", "--timeout", "60")
    assert time.monotonic() - start < 20
    assert result.exit_code == ExitCode.NOT_READY
    assert "solo will not start: the gateway exited with code 78" in result.stderr
    assert "state cannot be migrated safely" in result.stderr


def test_plan_of_a_new_project_creates_everything_and_exits_8(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, base: int
) -> None:
    engine = FakeEngine().with_images(DEFAULT_IMAGE)
    monkeypatch.setattr(common, "connect", lambda: engine)
    write_tree(tmp_path, {"spec.yaml": f"project: fresh\nprofiles:\n  solo:\n    port: {base}\n"})
    where: list[str | Path] = ["-f", tmp_path / "spec.yaml", "-o", tmp_path / "out"]
    result = run_cli("plan", *where, "--json")
    assert result.exit_code == ExitCode.CHANGES, result.output
    assert json.loads(result.stdout)["profiles"] == [
        {
            "profile": "solo",
            "container": "create",
            "config": None,
            "volumes": ["fresh_solo-state", "fresh_solo-config", "fresh_solo-workspace"],
        }
    ]
    assert not (tmp_path / "out").exists()  # plan writes nothing
    assert engine.compose.calls == []
