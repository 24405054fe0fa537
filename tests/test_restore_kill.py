"""The staged write of a restore (host.volumes.write_script) killed at random instants
(issue 19): run on this host with the trees in tmp_path (GNU tar, mv and xargs, as in the
image). After each kill the trees hold the old contents or a swap the next run finishes, and the
next run (the same restore again) leaves exactly the archive's contents; a bad archive after
a kill leaves the old contents or the finished swap, never a mix."""

from __future__ import annotations

import io
import os
import random
import re
import signal
import subprocess
import tarfile
import time
from pathlib import Path

import pytest

from openclaw_compose.core.contract import HOME
from openclaw_compose.host.volumes import STAGE, write_script
from tests.test_restore_archive import STATE, WORKSPACE, payload

KILLS = 40


def _tree(root: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(root)): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def _old(home: Path) -> None:
    for role, names in {".openclaw": 60, ".openclaw-config": 3, "workspace": 60}.items():
        (home / role).mkdir(parents=True, exist_ok=True)
        for index in range(names):
            (home / role / f"old-{index}").write_text(f"old {role} {index}")
        (home / role / ".hidden-old").write_text("old")


def _script(home: Path, archive: Path) -> str:
    members = {"state": STATE, "config": None, "workspace": WORKSPACE}
    script = write_script(str(archive), members, replace=True)
    return re.sub(f"(?<!posix){HOME}", str(home), script)


@pytest.fixture
def archives(tmp_path: Path) -> tuple[Path, Path]:
    def many(tar: tarfile.TarFile) -> None:
        for index in range(200):
            info = tarfile.TarInfo(f"{STATE}/new-{index}")
            data = f"new {index}".encode()
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))

    good = payload(tmp_path / "good.tar.gz", edit=many)
    bad = tmp_path / "bad.tar.gz"
    bad.write_bytes(good.read_bytes()[:300])
    return good, bad


def test_a_killed_restore_is_finished_or_undone(
    tmp_path: Path, archives: tuple[Path, Path]
) -> None:
    good, bad = archives
    reference = tmp_path / "reference"
    _old(reference)
    subprocess.run(["sh", "-c", _script(reference, good)], check=True)
    expected = {
        role: _tree(reference / role) for role in (".openclaw", ".openclaw-config", "workspace")
    }
    home = tmp_path / "home"
    old = None
    rng = random.Random(19)
    for attempt in range(KILLS):
        if home.exists():
            subprocess.run(["rm", "-rf", str(home)], check=True)
        _old(home)
        old = old or {role: _tree(home / role) for role in expected}
        process = subprocess.Popen(["sh", "-c", _script(home, good)], start_new_session=True)
        time.sleep(rng.uniform(0, 0.08))
        with_kill = process.poll() is None
        if with_kill:
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        after_bad = subprocess.run(
            ["sh", "-c", _script(home, bad)], check=False, capture_output=True
        )
        now = {role: _tree(home / role) for role in expected}
        assert after_bad.returncode != 0
        assert now in (old, expected), f"attempt {attempt}: a mix of old and new"
        subprocess.run(["sh", "-c", _script(home, good)], check=True)
        assert {role: _tree(home / role) for role in expected} == expected


def test_a_swap_cut_off_in_its_last_rm_leaves_no_stage(
    tmp_path: Path, archives: tuple[Path, Path]
) -> None:
    """Killed after ``STAGE.new`` went and before ``STAGE.moved`` did (seen in CI): the next
    run cleans the marker up and the tree holds exactly the new contents."""
    good, bad = archives
    home = tmp_path / "home"
    _old(home)
    subprocess.run(["sh", "-c", _script(home, good)], check=True)
    expected = {role: _tree(home / role) for role in (".openclaw", ".openclaw-config", "workspace")}
    (home / ".openclaw" / f"{STAGE}.moved").touch()
    (home / ".openclaw" / f"{STAGE}.ready").touch()
    after = subprocess.run(["sh", "-c", _script(home, bad)], check=False, capture_output=True)
    assert after.returncode != 0
    assert {role: _tree(home / role) for role in expected} == expected
