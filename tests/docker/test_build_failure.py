"""A failed image build leaves nothing behind that later runs would pick up (issue 22).

``build --version`` of a release npm does not have fails (exit 4) and adds nothing to the
build cache; right after it, in the same run, the native OpenClaw is still the tested version's
complete install, ``bench_ports --sizes 1`` runs through, and so does ``test_native.py``, which
pytest runs after this module.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from openclaw_compose.core.spec import OPENCLAW_VERSION
from openclaw_compose.engine import Engine
from openclaw_compose.errors import ExitCode
from openclaw_compose.host.images import cache_dir, native_openclaw
from openclaw_compose.testing import free_base, release_base
from tests.helpers import run_cli

UNPUBLISHED = "2026.0.0-unpublished"
"""A version npm does not have: a typo, or a release not published yet."""
REPOSITORY = Path(__file__).resolve().parents[2]


def _contexts() -> list[str]:
    folder = cache_dir() / "gateway-context"
    return sorted(path.name for path in folder.iterdir()) if folder.is_dir() else []


def test_a_build_of_an_unpublished_version_leaves_no_context(engine: Engine) -> None:
    before = _contexts()
    result = run_cli("build", "--version", UNPUBLISHED)
    assert result.exit_code == ExitCode.DOCKER, result.output
    assert f"OPENCLAW_VERSION={UNPUBLISHED} images/build.sh" in result.output
    assert _contexts() == before
    assert engine.containers.image_labels(f"openclaw-compose/gateway:{UNPUBLISHED}") is None


def test_the_native_openclaw_is_still_the_tested_version(engine: Engine) -> None:
    del engine  # the build this test follows needs the engine; marks the test docker
    native = native_openclaw()
    assert native.version == OPENCLAW_VERSION
    version = subprocess.run(
        native.command("--version"), capture_output=True, text=True, check=True, timeout=120
    ).stdout
    assert OPENCLAW_VERSION in version


def test_bench_ports_runs_right_after_it(engine: Engine) -> None:
    del engine  # bench_ports starts containers on it
    base = free_base()
    try:
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "benchmarks.bench_ports",
                "--sizes",
                "1",
                "--repeat",
                "1",
                "--first-base",
                str(base),
            ],
            cwd=REPOSITORY,
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )
    finally:
        release_base(base)
    assert done.returncode == 0, done.stderr[-3000:]
    rows = [line for line in done.stdout.splitlines() if line.startswith("| ") and "| 1 |" in line]
    assert {row.split("|")[1].strip() for row in rows} >= {"native", "host", "bridge"}, done.stdout
