"""`docker compose config -q` accepts what generate writes."""

from __future__ import annotations

from pathlib import Path

import pytest

from openclaw_compose.checks import HostFacts
from openclaw_compose.engine import Engine
from openclaw_compose.project import check_spec, generate
from tests.helpers import write_tree
from tests.test_render_golden import CASES


@pytest.mark.parametrize("case", sorted(CASES))
def test_compose_accepts_generated_project(engine: Engine, tmp_path: Path, case: str) -> None:
    text = CASES[case]
    spec_path = None
    if text is not None:
        write_tree(tmp_path, {"openclaw-compose.yaml": text})
        spec_path = tmp_path / "openclaw-compose.yaml"
    generate(check_spec(spec_path, HostFacts()), tmp_path)
    assert engine.compose(tmp_path, "config", "--quiet") == ""
    services = engine.compose(tmp_path, "config", "--services").split()
    assert sorted(services) == ["main", "rescue"]
