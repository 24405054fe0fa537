"""`docker compose config -q` accepts what generate writes, and the stack loader of
`docker stack deploy` (`docker stack config`) what generate --target swarm writes."""

from __future__ import annotations

from pathlib import Path

import pytest

from openclaw_compose.core.checks import HostFacts
from openclaw_compose.engine import Engine
from openclaw_compose.project import check_spec, generate
from openclaw_compose.targets.swarm.render import STACK_FILE
from tests.helpers import write_tree
from tests.test_render_golden import CASES, SWARM_CASES

from . import dockerkit


def _spec(tmp_path: Path, text: str | None) -> Path | None:
    if text is None:
        return None
    write_tree(tmp_path, {"openclaw-compose.yaml": text})
    return tmp_path / "openclaw-compose.yaml"


@pytest.mark.parametrize("case", sorted(CASES))
def test_compose_accepts_generated_project(engine: Engine, tmp_path: Path, case: str) -> None:
    generate(check_spec(_spec(tmp_path, CASES[case]), HostFacts()), tmp_path)
    assert engine.compose.run(tmp_path, "config", "--quiet") == ""
    services = engine.compose.run(tmp_path, "config", "--services").split()
    assert sorted(services) == ["main", "rescue"]


@pytest.mark.parametrize("case", sorted(SWARM_CASES))
def test_stack_loader_accepts_generated_stack(engine: Engine, tmp_path: Path, case: str) -> None:
    checked = check_spec(_spec(tmp_path, SWARM_CASES[case]), HostFacts(), "swarm")
    generate(checked, tmp_path)
    loaded = dockerkit.stack_config(tmp_path, STACK_FILE)
    assert all(f"  {profile}:\n" in loaded for profile in checked.loaded.spec.profiles)
