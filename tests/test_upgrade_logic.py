"""``upgrade``'s order and rollback against the in-memory engine: rescues first, one profile at a
time, a failing profile restored and restarted on its old image, the others never touched, and
the profiles file recording what runs. (The real thing: tests/docker/test_upgrade.py.)"""

from __future__ import annotations

from pathlib import Path

import pytest

from openclaw_compose.core.loading import load_spec
from openclaw_compose.core.spec import gateway_image
from openclaw_compose.errors import UpgradeFailed, UsageError
from openclaw_compose.runtime import upgrade as upgrade_module
from openclaw_compose.runtime.backup import Backup, Manifest
from openclaw_compose.runtime.upgrade import Target, upgrade

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


class Recorder:
    """Stands in for the steps that need a real gateway: backup, readiness, doctor, restore."""

    def __init__(self, failing: str | None = None) -> None:
        self.failing = failing
        self.events: list[tuple[str, str]] = []

    def backup(self, _spec: object, profile: str, _engine: object, out_dir: Path) -> Backup:
        self.events.append(("backup", profile))
        manifest = Manifest(1, "pipe", profile, OLD, "now", "0" * 64, 0)
        return Backup(out_dir / f"{profile}.tar", manifest, 0.0, live=True)

    def wait(
        self, _spec: object, name: str, _engine: object, _timeout: float, **_: object
    ) -> str | None:
        first = ("wait", name) not in self.events
        self.events.append(("wait", name))
        return "the gateway exited with code 78" if name == self.failing and first else None

    def doctor(self, _spec: object, _name: str, _engine: object) -> tuple[str | None, str]:
        return None, "0 error(s)"

    def restore(self, _spec: object, profile: str, *_: object, **kw: object) -> None:
        self.events.append(("restore", f"{profile}@{kw['image']}"))


@pytest.fixture
def spec_file(tmp_path: Path) -> Path:
    write_tree(tmp_path, {"openclaw-compose.yaml": SPEC})
    return tmp_path / "openclaw-compose.yaml"


def _run(
    spec_file: Path, monkeypatch: pytest.MonkeyPatch, recorder: Recorder
) -> tuple[FakeEngine, list[str]]:
    monkeypatch.setattr(upgrade_module, "backup_profile", recorder.backup)
    monkeypatch.setattr(upgrade_module, "wait_gateway", recorder.wait)
    monkeypatch.setattr(upgrade_module, "doctor_verdict", recorder.doctor)
    monkeypatch.setattr(upgrade_module, "restore_profile", recorder.restore)
    engine = FakeEngine().with_images(gateway_image(OLD), gateway_image(NEW))
    progress: list[str] = []
    out = spec_file.parent / "out"
    upgrade(
        load_spec(spec_file),
        out,
        engine,
        Target(version=NEW),
        timeout=5,
        backups=out / "backups",
        progress=progress.append,
    )
    return engine, progress


def test_rescues_first_one_at_a_time_and_the_file_records_it(
    spec_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    recorder = Recorder()
    engine, _ = _run(spec_file, monkeypatch, recorder)
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
    recorder = Recorder(failing="main")
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


def test_upgrade_needs_a_profiles_file(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="openclaw-compose init"):
        upgrade(
            load_spec(None, cwd=tmp_path),
            tmp_path,
            FakeEngine(),
            Target(version=NEW),
            timeout=5,
            backups=tmp_path,
            progress=print,
        )
