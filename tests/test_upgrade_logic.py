"""``upgrade``'s order and rollback against the in-memory engine: rescues first, one profile at a
time, a failing profile restored and restarted on its old image, the others never touched, and
the profiles file recording what runs. (The real thing: tests/docker/test_upgrade.py.)"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from openclaw_compose.core.loading import load_spec
from openclaw_compose.core.spec import Spec, gateway_image
from openclaw_compose.errors import UpgradeFailed, UsageError
from openclaw_compose.runtime import upgrade as upgrade_module
from openclaw_compose.runtime.backup import Backup, Manifest
from openclaw_compose.runtime.upgrade import Destination, upgrade
from openclaw_compose.targets import get_target
from openclaw_compose.targets.base import WatchFn
from openclaw_compose.targets.compose.runtime import ComposeRuntime

from .fakes import FakeEngine
from .helpers import write_tree

OLD, NEW = "2026.9.5", "2026.9.6"
SPEC = f"""\
# my gateways
project: pipe
openclaw_version: "{OLD}"  # pinned
profiles:
  main:
    port: 18789
  helper:
    port: 20789
  rescue:
    port: 19789
    role: rescue
"""


class Recorder(ComposeRuntime):
    """The compose runtime on the fake engine, with the steps that need a real gateway
    (backup, readiness, doctor, restore) recorded instead."""

    def __init__(
        self, engine: FakeEngine, failing: str | None = None, interrupted: str | None = None
    ) -> None:
        super().__init__(engine)
        self.engine = engine
        self.failing = failing
        self.interrupted = interrupted
        self.events: list[tuple[str, str]] = []

    def backup_profile(
        self, _spec: object, profile: str, _runtime: object, out_dir: Path
    ) -> Backup:
        self.events.append(("backup", profile))
        manifest = Manifest(1, "pipe", profile, OLD, "now", "0" * 64, 0)
        return Backup(out_dir / f"{profile}.tar", manifest, 0.0, live=True)

    def await_gateway(
        self,
        spec: Spec,
        profile: str,
        timeout: float,
        *,
        steady: int,
        watch: WatchFn | None = None,
    ) -> str | None:
        del spec, timeout, steady, watch  # the outcome is the test's choice
        first = ("wait", profile) not in self.events
        self.events.append(("wait", profile))
        if profile == self.interrupted:
            raise KeyboardInterrupt
        return "the gateway exited with code 78" if profile == self.failing and first else None

    def doctor(self, spec: Spec, profile: str) -> tuple[int, str]:
        del spec, profile
        return 0, '{"ok": true, "findings": []}'

    def last_logs(self, spec: Spec, profile: str) -> str:
        del spec, profile
        return "last line"

    def restore_profile(self, _spec: object, profile: str, *_: object, **kw: object) -> None:
        self.events.append(("restore", f"{profile}@{kw['image']}"))


@pytest.fixture
def spec_file(tmp_path: Path) -> Path:
    write_tree(tmp_path, {"openclaw-compose.yaml": SPEC})
    return tmp_path / "openclaw-compose.yaml"


def _recorder(failing: str | None = None, interrupted: str | None = None) -> Recorder:
    engine = FakeEngine().with_images(gateway_image(OLD), gateway_image(NEW))
    return Recorder(engine, failing, interrupted)


def _run(spec_file: Path, monkeypatch: pytest.MonkeyPatch, recorder: Recorder) -> FakeEngine:
    engine = recorder.engine
    monkeypatch.setattr(upgrade_module, "backup_profile", recorder.backup_profile)
    monkeypatch.setattr(upgrade_module, "restore_profile", recorder.restore_profile)
    progress: list[str] = []
    out = spec_file.parent / "out"
    upgrade(
        load_spec(spec_file),
        out,
        engine,
        Destination(version=NEW),
        target=replace(get_target("compose"), runtime=lambda _: recorder),
        timeout=5,
        backups=out / "backups",
        progress=progress.append,
    )
    return engine


def test_rescues_first_one_at_a_time_and_the_file_records_it(
    spec_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    recorder = _recorder()
    engine = _run(spec_file, monkeypatch, recorder)
    assert recorder.events == [
        ("backup", "rescue"),
        ("backup", "main"),
        ("backup", "helper"),
        ("wait", "rescue"),
        ("wait", "rescue"),
        ("wait", "main"),
        ("wait", "main"),
        ("wait", "helper"),
        ("wait", "helper"),
    ]
    assert engine.compose.calls == [
        ("up", "--detach", "--no-deps", name) for name in ("rescue", "main", "helper")
    ]
    assert "profiles:\n  main:\n    port: 18789\n  helper:" in spec_file.read_text()
    text = spec_file.read_text()
    assert f'openclaw_version: "{NEW}"  # pinned' in text, text
    assert text.startswith("# my gateways\n")
    assert load_spec(spec_file).spec.images() == {gateway_image(NEW): (NEW, False)}


def test_a_failing_profile_is_restored_on_its_old_image_and_the_rest_untouched(
    spec_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    recorder = _recorder(failing="main")
    with pytest.raises(UpgradeFailed) as failed:
        _run(spec_file, monkeypatch, recorder)
    message = failed.value.message
    assert "profile 'main' failed" in message
    assert "exited with code 78" in message
    assert "not yet upgraded were not stopped" in message
    assert f"runs {gateway_image(OLD)} again" in message
    engine_calls = [e for e in recorder.events if e[0] != "backup"]
    assert engine_calls == [
        ("wait", "rescue"),
        ("wait", "rescue"),
        ("wait", "main"),
        ("restore", f"main@{gateway_image(OLD)}"),
        ("wait", "main"),
    ]
    spec = load_spec(spec_file).spec
    assert spec.profiles["rescue"].image_ref(spec) == gateway_image(NEW)
    assert spec.profiles["main"].image_ref(spec) == gateway_image(OLD)
    assert spec.profiles["helper"].image_ref(spec) == gateway_image(OLD)
    compose = (spec_file.parent / "out" / "compose.yaml").read_text()
    assert compose.count(gateway_image(OLD)) == 2, "main is back on the old image, helper too"


def test_a_failed_first_profile_leaves_the_profiles_file_as_it_was(
    spec_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(UpgradeFailed):
        _run(spec_file, monkeypatch, _recorder(failing="rescue"))
    assert spec_file.read_text() == SPEC


def test_an_interrupted_upgrade_leaves_the_file_naming_what_the_state_may_be(
    spec_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C while main starts on the new image: main's state may be migrated already, so a
    later ``up`` must start it on the new image, not the old one."""
    with pytest.raises(KeyboardInterrupt):
        _run(spec_file, monkeypatch, _recorder(interrupted="main"))
    spec = load_spec(spec_file).spec
    runs = {name: profile.image_ref(spec) for name, profile in spec.profiles.items()}
    assert runs == {
        "rescue": gateway_image(NEW),
        "main": gateway_image(NEW),
        "helper": gateway_image(OLD),
    }


def test_upgrade_needs_a_profiles_file(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="openclaw-compose init"):
        upgrade(
            load_spec(None, cwd=tmp_path),
            tmp_path,
            FakeEngine(),
            Destination(version=NEW),
            target=get_target("compose"),
            timeout=5,
            backups=tmp_path,
            progress=print,
        )
