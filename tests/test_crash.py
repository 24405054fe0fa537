"""Kill ``generate`` at random instants (SIGKILL and SIGINT), hundreds of times, on a large spec
that alternates between two versions. After every kill the project Compose would read is whole
(its compose.yaml is one version's, byte for byte, every token it names is in .env and every
seed it names exists), no token is ever lost or changed, and the next run succeeds without
--force and equals a clean run.

The runs are forked from this process with both versions rendered beforehand, so that each run
is only the write (lock, recovery, plan, journal, renames) and a kill lands in it every time.
"""

from __future__ import annotations

import os
import random
import re
import signal
import time
from pathlib import Path

from openclaw_compose.core.checks import HostFacts
from openclaw_compose.core.contract import RenderedProject
from openclaw_compose.core.envfile import ENV_FILE, read_env
from openclaw_compose.core.journal import JOURNAL_DIR
from openclaw_compose.core.loading import LoadedSpec, validate
from openclaw_compose.core.writing import write_project
from openclaw_compose.project import check_loaded
from openclaw_compose.targets.compose.render import COMPOSE_FILE, render_project

from .helpers import generated

PROFILES = 100
KILLS = 300
BUDGET = 75.0
"""Seconds; on a loaded machine fewer kills happen, but never fewer than MIN_KILLS."""
MIN_KILLS = 100
_TOKEN = re.compile(r'file: "\./secrets/(OPENCLAW_TOKEN_[A-Z0-9_]+)"')
_SEED = re.compile(r'file: "\./(seeds/[^"]+)"')


def _spec_data(version: int) -> dict[str, object]:
    """Version 1 drops every 7th profile, renames every 5th and changes every fragment."""
    profiles: dict[str, object] = {}
    for i in range(PROFILES):
        if version and i % 7 == 0:
            continue
        name = f"p{i}" + ("-v1" if version and i % 5 == 0 else "")
        profiles[name] = {"port": 2000 + 200 * i, "openclaw": {"v": version, "list": [i] * 3}}
    return {"profiles": profiles}


def _render(version: int, out: Path) -> RenderedProject:
    loaded = LoadedSpec(validate(_spec_data(version), source="spec.yaml"), "spec.yaml", out)
    checked = check_loaded(loaded, HostFacts())
    return render_project(loaded, checked.plan, out)


def _tokens(out: Path) -> dict[str, str]:
    env = out / ENV_FILE
    return read_env(env.read_text()) if env.exists() else {}


def _assert_whole(out: Path, projects: list[RenderedProject], known: dict[str, str]) -> None:
    compose = out / COMPOSE_FILE
    if not compose.exists():
        return
    text = compose.read_text()
    assert any(text == project.files[COMPOSE_FILE] for project in projects), "torn compose.yaml"
    tokens = _tokens(out)
    for variable in _TOKEN.findall(text):
        assert tokens.get(variable), f"{variable} is named by compose.yaml but not in .env"
        secret = out / "secrets" / variable
        assert secret.read_text() == tokens[variable], f"{secret} is not .env's value"
    for seed in _SEED.findall(text):
        assert (out / seed).is_file(), f"{seed} is named by compose.yaml but missing"
    for variable, token in known.items():
        assert tokens.get(variable) == token, f"token {variable} lost or changed"


def _run_and_kill(out: Path, project: RenderedProject, delay: float, sig: int) -> None:
    # SIGINT stays blocked across the fork until the child is inside its try: one arriving
    # earlier would otherwise raise in the child's copy of pytest, outside the run under test.
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    pid = os.fork()
    if pid == 0:  # the child: one generate, as the CLI would run it
        code = 0
        try:
            signal.signal(signal.SIGINT, signal.default_int_handler)
            signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
            write_project(out, project)
        except KeyboardInterrupt:
            code = 130
        except BaseException as exc:  # reported to the parent, which fails the test
            (out.parent / "child-error").write_text(repr(exc))
            code = 3
        os._exit(code)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    time.sleep(delay)
    os.kill(pid, sig)
    _, status = os.waitpid(pid, 0)
    code = os.waitstatus_to_exitcode(status)
    error = out.parent / "child-error"
    assert not error.exists(), error.read_text()
    assert code in (0, 130, -signal.SIGKILL, -signal.SIGINT), f"the run ended with {code}"


def test_killed_runs_leave_a_whole_project(tmp_path: Path) -> None:
    out = tmp_path / "out"
    projects = [_render(0, out), _render(1, out)]
    clean, durations = [], []
    for version, project in enumerate(projects):
        directory = tmp_path / f"clean{version}"
        started = time.perf_counter()
        write_project(directory, project)
        durations.append(time.perf_counter() - started)
        clean.append(generated(directory))
    window = max(durations) * 1.5
    rng = random.Random(os.environ.get("CRASH_SEED", "20261125"))
    known: dict[str, str] = {}
    kills = journals = 0
    deadline = time.monotonic() + BUDGET
    while kills < KILLS and (kills < MIN_KILLS or time.monotonic() < deadline):
        version = kills % 2
        sig = rng.choice([signal.SIGKILL, signal.SIGINT])
        _run_and_kill(out, projects[version], rng.uniform(0, window), sig)
        kills += 1
        journals += (out / JOURNAL_DIR).exists()
        _assert_whole(out, projects, known)
        known = _tokens(out) | known
        if rng.random() < 0.5:  # else the next killed run also recovers this one
            write_project(out, projects[version])
            files = generated(out)
            assert files == clean[version], "a completed run differs from a clean run"
            _assert_whole(out, projects, known)
            known = _tokens(out)
    print(f"{kills} kills, {journals} in the journal window, window {window:.3f} s")
    assert kills >= MIN_KILLS
    assert journals >= kills // 20, f"only {journals} of {kills} kills hit the journal window"
    write_project(out, projects[1])
    assert sorted(path.name for path in out.iterdir()) == sorted(
        [".env", ".openclaw-compose.sums", COMPOSE_FILE, "seeds", "secrets"]
    ), "a temporary file or the journal was left behind"
    assert set(generated(out)) == set(clean[1])
