"""``resources:`` of a profile: Docker-style sizes, clear refusals, the defaults it overrides,
and what both targets render from it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from openclaw_compose.core.loading import load_spec, validate
from openclaw_compose.core.ports import plan_ports
from openclaw_compose.core.resources import (
    BROWSER_LIMITS,
    DEFAULT_LIMITS,
    format_size,
    size_bytes,
)
from openclaw_compose.errors import SpecError
from openclaw_compose.targets.compose.render import compose_document
from openclaw_compose.targets.swarm.render import stack_document

from .helpers import write_tree


@pytest.mark.parametrize(
    ("text", "size"),
    [
        ("512m", 512 << 20),
        ("2g", 2 << 30),
        ("2G", 2 << 30),
        ("1.5g", 3 << 29),
        ("3gb", 3 << 30),
        ("1048576", 1 << 20),
        ("64k", 64 << 10),
        ("1t", 1 << 40),
    ],
)
def test_sizes_read_as_docker_reads_them(text: str, size: int) -> None:
    assert size_bytes(text) == size


@given(st.integers(min_value=1, max_value=1 << 50))
def test_a_formatted_size_reads_back_to_itself(size: int) -> None:
    assert size_bytes(format_size(size)) == size


@pytest.mark.parametrize(
    ("resources", "expected"),
    [
        (
            "{memory: lots}",
            "profiles.a.resources.memory: 'lots' is not a size: use a number with "
            "an optional unit b, k, m, g or t (powers of 1024), e.g. 512m or 2g (line 4)",
        ),
        (
            "{memory: 10m}",
            "profiles.a.resources.memory: memory '10m' is below 64m: no gateway starts (line 4)",
        ),
        ("{cpus: 0}", "profiles.a.resources.cpus: must be greater than 0 (got int 0) (line 4)"),
        (
            "{cpus: '1.5'}",
            "profiles.a.resources.cpus: must be a valid number (got the text '1.5') (line 4)",
        ),
        (
            "{pids: 10}",
            "profiles.a.resources.pids: must be greater than or equal to 64 (got int 10) (line 4)",
        ),
        (
            "{disk: 1g}",
            "profiles.a.resources.disk: unknown key 'disk' (allowed here: memory, cpus, pids); "
            "check its spelling, see 'openclaw-compose schema' (line 4)",
        ),
    ],
)
def test_bad_resources_are_refused_by_field(tmp_path: Path, resources: str, expected: str) -> None:
    write_tree(
        tmp_path, {"spec.yaml": f"profiles:\n  a:\n    port: 20000\n    resources: {resources}\n"}
    )
    with pytest.raises(SpecError) as info:
        load_spec(tmp_path / "spec.yaml")
    assert expected in [str(issue) for issue in info.value.issues]


SPEC: dict[str, Any] = {
    "project": "lim",
    "profiles": {
        "main": {"port": 18789, "resources": {"memory": "3072m", "cpus": 1.5, "pids": 1024}},
        "rescue": {"port": 19789, "resources": {"memory": "1g"}},
        "web": {"port": 20789, "browser": True},
    },
}


def test_compose_renders_the_hardened_baseline_and_the_limits() -> None:
    spec = validate(SPEC, source="spec")
    services = compose_document(spec, plan_ports(spec), Path("/p"))["services"]
    main, rescue, web = services["main"], services["rescue"], services["web"]
    for service in services.values():
        assert service["cap_drop"] == ["ALL"]
        assert service["security_opt"] == ["no-new-privileges:true"]
        assert service["read_only"] is True
        assert service["restart"] == "unless-stopped"
        assert service["logging"]["options"] == {"max-size": "10m", "max-file": "3"}
        assert [t.split(":")[0] for t in service["tmpfs"]] == ["/tmp", "/home/node/.cache"]
        assert service["memswap_limit"] == service["mem_limit"]
    assert (main["mem_limit"], main["cpus"], main["pids_limit"]) == ("3g", "1.5", 1024)
    assert (rescue["mem_limit"], rescue["cpus"], rescue["pids_limit"]) == (
        "1g",
        DEFAULT_LIMITS.cpus_text(),
        DEFAULT_LIMITS.pids,
    )
    assert (web["mem_limit"], web["pids_limit"]) == (
        BROWSER_LIMITS.memory_text(),
        BROWSER_LIMITS.pids,
    )


def test_swarm_renders_what_swarm_can_express() -> None:
    spec = validate(SPEC, source="spec")
    services = stack_document(spec, plan_ports(spec), Path("/p"))["services"]
    main = services["main"]
    assert main["deploy"]["resources"]["limits"] == {"cpus": "1.5", "memory": "3g", "pids": 1024}
    assert main["cap_drop"] == ["ALL"]
    assert main["read_only"] is True
    assert "security_opt" not in main  # docker stack deploy ignores it: README, the limits


def test_resources_survive_the_round_trip() -> None:
    spec = validate(SPEC, source="spec")
    assert validate(spec.to_document(), source="spec") == spec
