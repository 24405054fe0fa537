"""Many ``openclaw-compose generate`` processes at once, each with its own spec, on one output
directory: every run succeeds (they take turns on the directory's lock), the result is exactly
one spec's project, and every token any run handed out is still in .env."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from openclaw_compose.core.envfile import ENV_FILE, read_env
from openclaw_compose.core.journal import JOURNAL_DIR
from openclaw_compose.targets.compose.render import COMPOSE_FILE

from .helpers import generated, write_tree

RUNS = 12


def _spec(run: int) -> str:
    """Each run has a profile of its own and a different fragment for the shared one."""
    return (
        f"profiles:\n  shared:\n    port: 18789\n    openclaw: {{run: {run}}}\n"
        f"  own{run}:\n    port: {20000 + 200 * run}\n"
    )


def test_concurrent_runs_take_turns(tmp_path: Path) -> None:
    out = tmp_path / "out"
    write_tree(tmp_path, {f"spec{run}.yaml": _spec(run) for run in range(RUNS)})
    command = [sys.executable, "-m", "openclaw_compose", "generate", "-o", str(out)]
    started = time.perf_counter()
    runs = [
        subprocess.Popen(
            [*command, "-f", str(tmp_path / f"spec{run}.yaml")],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for run in range(RUNS)
    ]
    results = [(run.communicate(timeout=120)[1], run) for run in runs]
    elapsed = time.perf_counter() - started
    for stderr, run in results:
        assert run.returncode == 0, stderr
        assert "Traceback" not in stderr
    compose = (out / COMPOSE_FILE).read_text()
    winner = next(run for run in range(RUNS) if f"  own{run}:\n" in compose)
    tokens = read_env((out / ENV_FILE).read_text())
    assert {f"OPENCLAW_TOKEN_OWN{run}" for run in range(RUNS)} <= set(tokens), "a token was lost"
    assert not (out / JOURNAL_DIR).exists()
    # The winner's project, byte for byte, as a lone run writes it; and no run is left to redo.
    alone = tmp_path / "alone"
    winner_spec = str(tmp_path / f"spec{winner}.yaml")
    subprocess.run(
        [sys.executable, "-m", "openclaw_compose", "generate", "-o", str(alone), "-f", winner_spec],
        capture_output=True,
        check=True,
    )
    sums = ".openclaw-compose.sums"
    assert {k: v for k, v in generated(out).items() if k != sums} == {
        k: v for k, v in generated(alone).items() if k != sums
    }
    again = subprocess.run(
        [*command, "-f", winner_spec], capture_output=True, text=True, check=False
    )
    assert again.returncode == 0, again.stderr
    assert "is up to date" in again.stdout
    print(f"{RUNS} concurrent runs in {elapsed:.1f} s")
