"""A restore validates everything an archive holds before the gateway is touched (issue 19):
crafted archives for each bad case, read with tarfile, and a runtime that records what a
restore would do to the profile."""

from __future__ import annotations

import io
import json
import tarfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, cast

import pytest

from openclaw_compose.core.loading import load_spec
from openclaw_compose.core.spec import Spec
from openclaw_compose.errors import ArchiveError, DockerError
from openclaw_compose.runtime import backup as backup_module
from openclaw_compose.runtime.backup import (
    FORMAT,
    Manifest,
    _sha256,
    _write_archive,
    read_archive,
    restore_profile,
)
from openclaw_compose.runtime.payload import inspect_payload
from openclaw_compose.targets.base import Runtime
from tests.helpers import write_tree

ROOT = "2026-12-04T17-38-47.606+00-00-openclaw-backup"
STATE = f"{ROOT}/payload/posix/home/node/.openclaw"
WORKSPACE = f"{ROOT}/payload/posix/home/node/workspace"
Edit = Callable[[tarfile.TarFile], None]


def openclaw_manifest(version: str = "2026.9.6", **changes: Any) -> dict[str, Any]:
    """The shape ``openclaw backup create`` writes (read from a real archive)."""
    manifest: dict[str, Any] = {
        "schemaVersion": 1,
        "archiveRoot": ROOT,
        "runtimeVersion": version,
        "assets": [
            {"kind": "state", "sourcePath": "/home/node/.openclaw", "archivePath": STATE},
            {"kind": "workspace", "sourcePath": "/home/node/workspace", "archivePath": WORKSPACE},
        ],
    }
    return manifest | changes


def _add(tar: tarfile.TarFile, name: str, data: bytes = b"", **fields: Any) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    for key, value in fields.items():
        setattr(info, key, value)
    tar.addfile(info, io.BytesIO(data) if info.isreg() else None)


def payload(path: Path, manifest: Any = None, edit: Edit | None = None) -> Path:
    with tarfile.open(path, "w:gz") as tar:
        for name in (ROOT, f"{ROOT}/payload", f"{ROOT}/payload/posix", STATE[: STATE.rfind("/")]):
            _add(tar, name, type=tarfile.DIRTYPE)
        _add(tar, STATE, type=tarfile.DIRTYPE)
        _add(tar, f"{STATE}/openclaw.json", b"{}")
        _add(tar, WORKSPACE, type=tarfile.DIRTYPE)
        _add(tar, f"{WORKSPACE}/-rf", b"a file named like an option is fine")
        if edit is not None:
            edit(tar)
        data = json.dumps(openclaw_manifest() if manifest is None else manifest).encode()
        _add(tar, f"{ROOT}/manifest.json", data)
    return path


def test_a_real_openclaw_archive_passes() -> None:
    """Written by ``openclaw backup create --verify`` (2026.9.6) over a state, a workspace file,
    and no config file."""
    real = Path(__file__).parent / "data" / "openclaw-2026.9.6-backup.tar.gz"
    inner = inspect_payload(real, "real")
    assert inner.runtime_version == "2026.9.6"
    assert inner.members["config"] is None
    assert str(inner.members["workspace"]).endswith("/payload/posix/home/node/workspace")


def test_openclaws_archive_is_read_whole(tmp_path: Path) -> None:
    def link(tar: tarfile.TarFile) -> None:
        _add(tar, f"{WORKSPACE}/link", type=tarfile.SYMTYPE, linkname="-rf")

    inner = inspect_payload(payload(tmp_path / "p.tar.gz", edit=link), "x")
    assert inner.runtime_version == "2026.9.6"
    assert dict(inner.members) == {"state": STATE, "config": None, "workspace": WORKSPACE}


BAD_MEMBERS: dict[str, tuple[Edit, str]] = {
    "device": (lambda t: _add(t, f"{STATE}/dev", type=tarfile.CHRTYPE), "a device"),
    "fifo": (lambda t: _add(t, f"{STATE}/fifo", type=tarfile.FIFOTYPE), "a FIFO"),
    "hard link": (
        lambda t: _add(t, f"{STATE}/h", type=tarfile.LNKTYPE, linkname="/etc/passwd"),
        "a hard link",
    ),
    "link out": (
        lambda t: _add(t, f"{STATE}/l", type=tarfile.SYMTYPE, linkname="../../../../../x"),
        "symbolic link out of its tree",
    ),
    "absolute link": (
        lambda t: _add(t, f"{STATE}/l", type=tarfile.SYMTYPE, linkname="/etc"),
        "symbolic link out of its tree",
    ),
    "dot dot": (lambda t: _add(t, f"{STATE}/../../../evil", b"x"), "unsafe name"),
    "absolute": (lambda t: _add(t, "/etc/evil", b"x"), "unsafe name"),
    "outside the root": (lambda t: _add(t, "other/x", b"x"), "archiveRoot"),
    "huge": (lambda t: _add(t, f"{STATE}/big", type=tarfile.DIRTYPE, size=1 << 40), "GiB"),
}


@pytest.mark.parametrize("case", sorted(BAD_MEMBERS))
def test_bad_members_are_refused(tmp_path: Path, case: str) -> None:
    edit, expected = BAD_MEMBERS[case]
    with pytest.raises(ArchiveError, match=expected):
        inspect_payload(payload(tmp_path / "p.tar.gz", edit=edit), "x")


BAD_MANIFESTS: dict[str, tuple[Any, str]] = {
    "not an object": ([], "not an object"),
    "no version": (openclaw_manifest(runtimeVersion=None), "runtimeVersion"),
    "bad version": (openclaw_manifest("latest; rm -rf /"), "runtimeVersion"),
    "no assets": (openclaw_manifest(assets="x"), "list of assets"),
    "asset missing": (
        openclaw_manifest(
            assets=[{"sourcePath": "/home/node/.openclaw", "archivePath": f"{ROOT}/gone"}]
        ),
        "does not hold",
    ),
    "asset as option": (
        openclaw_manifest(
            assets=[{"sourcePath": "/home/node/workspace", "archivePath": "--to-command=sh"}]
        ),
        "read as an option",
    ),
    "asset shape": (openclaw_manifest(assets=[{"sourcePath": 1}]), "without sourcePath"),
}


@pytest.mark.parametrize("case", sorted(BAD_MANIFESTS))
def test_bad_manifests_are_refused(tmp_path: Path, case: str) -> None:
    manifest, expected = BAD_MANIFESTS[case]
    with pytest.raises(ArchiveError, match=expected):
        inspect_payload(payload(tmp_path / "p.tar.gz", manifest), "x")


def test_a_truncated_stream_is_refused(tmp_path: Path) -> None:
    def big(tar: tarfile.TarFile) -> None:
        _add(tar, f"{STATE}/random", bytes(range(256)) * 4096)

    data = payload(tmp_path / "p.tar.gz", edit=big).read_bytes()
    (tmp_path / "t.tar.gz").write_bytes(data[: len(data) // 2])
    with pytest.raises(ArchiveError, match="unreadable"):
        inspect_payload(tmp_path / "t.tar.gz", "x")


def ours(tmp_path: Path, inner: Path, version: str = "2026.9.6") -> Path:
    manifest = Manifest(FORMAT, "p", "main", version, "now", _sha256(inner), inner.stat().st_size)
    _write_archive(tmp_path / "a.tar", manifest, inner)
    return tmp_path / "a.tar"


def test_the_payloads_own_version_must_match_the_outer_manifest(tmp_path: Path) -> None:
    inner = payload(tmp_path / "p.tar.gz", openclaw_manifest("2099.1.1"))
    with pytest.raises(ArchiveError, match=r"the archive inside says 2099\.1\.1"):
        read_archive(ours(tmp_path, inner), tmp_path)


class Recording:
    """The part of a target's runtime a restore uses, recorded."""

    def __init__(self, fail: bool = False) -> None:
        self.events: list[str] = []
        self.fail = fail

    def trees_empty(self, *_: object) -> Mapping[str, bool]:
        return {"state": False, "config": False, "workspace": False}

    def stop_gateway(self, *_: object) -> bool:
        self.events.append("stop")
        return True

    def write_trees(self, *_: object) -> None:
        self.events.append("write")
        if self.fail:
            raise DockerError("disk full")

    def start_gateway(self, *_: object) -> None:
        self.events.append("start")


@pytest.fixture
def spec(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Spec:
    monkeypatch.setattr(backup_module, "image_version", lambda *_: "2026.9.6")
    write_tree(tmp_path, {"s.yaml": "project: p\nprofiles:\n  main: {port: 18789}\n"})
    return load_spec(tmp_path / "s.yaml").spec


@pytest.mark.parametrize(
    "damage",
    ["device", "asset missing", "truncated", "newer", "not ours"],
)
def test_a_bad_archive_never_touches_the_gateway(tmp_path: Path, spec: Spec, damage: str) -> None:
    edit = BAD_MEMBERS["device"][0] if damage == "device" else None
    manifest = BAD_MANIFESTS["asset missing"][0] if damage == "asset missing" else None
    if damage == "newer":
        manifest = openclaw_manifest("2099.1.1")
    inner = payload(tmp_path / "p.tar.gz", manifest, edit)
    archive = ours(tmp_path, inner, "2099.1.1" if damage == "newer" else "2026.9.6")
    if damage == "truncated":
        archive.write_bytes(archive.read_bytes()[:2000])
    if damage == "not ours":
        archive = inner
    runtime = Recording()
    with pytest.raises(ArchiveError):
        restore_profile(
            spec, "main", archive, (cast(Any, None), cast(Runtime, runtime), tmp_path), force=True
        )
    assert runtime.events == []


def test_a_failed_write_starts_the_gateway_again(tmp_path: Path, spec: Spec) -> None:
    archive = ours(tmp_path, payload(tmp_path / "p.tar.gz"))
    runtime = Recording(fail=True)
    with pytest.raises(DockerError):
        restore_profile(
            spec, "main", archive, (cast(Any, None), cast(Runtime, runtime), tmp_path), force=True
        )
    assert runtime.events == ["stop", "write", "start"]
