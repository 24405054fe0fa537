"""Backup and restore of a profile whose state, config and workspace are host directories (bind
mounts, ``state_dir`` and the like) rather than named volumes: the same commands, the same
archive, and files put back owned by the gateway's user; a checksum-valid archive with bad
content is refused while the gateway keeps running on its state."""

from __future__ import annotations

import shutil
from pathlib import Path

from openclaw_compose.core.contract import CONTAINER_UID, STATE_DIR, WORKSPACE_DIR
from openclaw_compose.engine import Engine
from openclaw_compose.errors import ExitCode
from openclaw_compose.testing import free_base, release_base
from tests.helpers import run_cli
from tests.test_restore_archive import BAD_MEMBERS, ours, payload

ROLES = ("state", "config", "workspace")


def test_backup_down_empty_the_directories_restore_up(engine: Engine, tmp_path: Path) -> None:
    base = free_base()
    project = f"octest-{tmp_path.name[-8:].lower().replace('_', '-')}"
    dirs = {role: tmp_path / "data" / role for role in ROLES}
    spec_file = tmp_path / "openclaw-compose.yaml"
    spec_file.write_text(
        f"project: {project}\nprofiles:\n  main:\n    port: {base}\n"
        + "".join(f"    {role}_dir: {path}\n" for role, path in dirs.items())
    )
    where = ("-f", spec_file, "-o", tmp_path / "out")
    try:
        assert run_cli("up", *where, "--timeout", "300").exit_code == 0
        container = engine.containers.project_containers(project)["main"].name
        script = f"echo bound > {STATE_DIR}/marker && echo note > {WORKSPACE_DIR}/note.md"
        assert engine.containers.exec(container, ["sh", "-c", script])[0] == 0
        assert (dirs["state"] / "marker").read_text() == "bound\n", "not a bind mount"
        made = run_cli("backup", "main", *where[:2], "-o", tmp_path / "backups")
        assert made.exit_code == 0, made.output
        (archive,) = (tmp_path / "backups").iterdir()
        (tmp_path / "bad").mkdir()
        device = BAD_MEMBERS["device"][0]
        bad = ours(tmp_path / "bad", payload(tmp_path / "bad" / "p.tar.gz", edit=device))
        refused = run_cli("restore", "main", bad, *where, "--force")
        assert refused.exit_code == ExitCode.ARCHIVE, refused.output
        assert "a device" in refused.stderr
        assert engine.containers.project_containers(project)["main"].status == "running"
        assert (dirs["state"] / "marker").read_text() == "bound\n"

        assert run_cli("down", *where).exit_code == 0
        for path in dirs.values():
            shutil.rmtree(path)
        restored = run_cli("restore", "main", archive, *where)
        assert restored.exit_code == 0, restored.output
        assert run_cli("up", *where, "--timeout", "300").exit_code == 0

        assert (dirs["state"] / "marker").read_text() == "bound\n"
        assert (dirs["workspace"] / "note.md").read_text() == "note\n"
        assert (dirs["config"] / "openclaw.json").is_file()
        for path in (dirs["state"] / "marker", dirs["workspace"] / "note.md"):
            assert path.stat().st_uid == CONTAINER_UID, path
    finally:
        run_cli("down", *where, "--volumes", "--yes")
        release_base(base)
