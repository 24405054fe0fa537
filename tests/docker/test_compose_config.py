"""`docker compose config -q` accepts what generate writes, and the stack loader of
`docker stack deploy` (`docker stack config`) what generate --target swarm writes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from openclaw_compose.core.checks import HostFacts
from openclaw_compose.engine import Engine
from openclaw_compose.project import check_spec, generate
from openclaw_compose.targets.compose.render import COMPOSE_FILE
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
    written = YAML(typ="safe").load((tmp_path / COMPOSE_FILE).read_text())["services"]
    assert sorted(services) == sorted(written)  # the gateways, a front, port carriers
    assert {"main", "rescue"} <= set(services)


@pytest.mark.parametrize("case", sorted(SWARM_CASES))
def test_stack_loader_accepts_generated_stack(engine: Engine, tmp_path: Path, case: str) -> None:
    checked = check_spec(_spec(tmp_path, SWARM_CASES[case]), HostFacts(), "swarm")
    generate(checked, tmp_path)
    loaded = dockerkit.stack_config(tmp_path, STACK_FILE)
    assert all(f"  {profile}:\n" in loaded for profile in checked.loaded.spec.profiles)


DOLLARS = """\
image: 'openclaw-compose/gateway:$OPENCLAW_TOKEN_RESCUE'
profiles:
  main:
    port: 18789
    config_dir: ./c$OPENCLAW_TOKEN_RESCUE
  rescue:
    port: 19789
    config_dir: ./c${X-y}
"""


def test_compose_and_stack_read_user_strings_literally(engine: Engine, tmp_path: Path) -> None:
    """A `$` in a path or an image reaches Compose and the stack loader as written, never
    interpolated (with .env present, which holds OPENCLAW_TOKEN_RESCUE). Both print their model
    as a Compose file again, so a literal `$` shows as `$$` there."""
    spec = _spec(tmp_path, DOLLARS)
    generate(check_spec(spec, HostFacts()), tmp_path / "out")
    text = engine.compose.run(tmp_path / "out", "config", "--format", "json")
    token = (tmp_path / "out" / ".env").read_text().split("OPENCLAW_TOKEN_RESCUE=")[1][:64]
    assert token not in text.replace(f'OPENCLAW_GATEWAY_TOKEN": "{token}', "")
    config = json.loads(text)
    for profile, source in (("main", "c$OPENCLAW_TOKEN_RESCUE"), ("rescue", "c${X-y}")):
        service = config["services"][profile]
        assert service["image"] == "openclaw-compose/gateway:$$OPENCLAW_TOKEN_RESCUE"
        sources = {volume["source"] for volume in service["volumes"]}
        assert str(tmp_path / source).replace("$", "$$") in sources, sources
    generate(check_spec(spec, HostFacts(), "swarm"), tmp_path / "out")
    loaded = dockerkit.stack_config(tmp_path / "out", STACK_FILE)
    assert "c$OPENCLAW_TOKEN_RESCUE" in loaded.replace("$$", "$"), loaded
    assert "gateway:$OPENCLAW_TOKEN_RESCUE" in loaded.replace("$$", "$")
    assert token not in loaded
