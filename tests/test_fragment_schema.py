"""``openclaw-schema``: fragments against OpenClaw's own schema (the real one of 2026.9.6,
saved from ``openclaw config schema --json``), the cache per image, and the warning when no
schema can be had."""

from __future__ import annotations

import gzip
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from openclaw_compose.core.fragment_checks import fragment_problems, schema_cache
from openclaw_compose.core.fragment_schema import FragmentIssue, fragment_issues
from openclaw_compose.core.loading import load_spec
from openclaw_compose.runtime.schemas import fetch_schemas
from tests.fakes import FakeEngine
from tests.standin_provider import StandinProvider

SAVED = Path(__file__).parent / "golden" / "openclaw-2026.9.6-config-schema.json.gz"
SCHEMA: dict[str, Any] = json.loads(gzip.decompress(SAVED.read_bytes()))


def _issues(fragment: dict[str, Any]) -> list[tuple[str, str]]:
    return [(".".join(map(str, i.path)), i.message) for i in fragment_issues(fragment, SCHEMA)]


def test_what_the_tests_and_readme_run_is_valid() -> None:
    provider = StandinProvider("m", "127.0.0.1", 8000).provider_config("${PROVIDER_KEY}")
    fragment = {
        "models": {"providers": {"standin": provider}},
        "agents": {"defaults": {"model": {"primary": "standin/m"}, "heartbeat": {"every": "2h"}}},
        "gateway": {"http": {"endpoints": {"chatCompletions": {"enabled": True}}}},
        "browser": {"profiles": {"work": {"cdpPort": 18801}}},
    }
    assert _issues(fragment) == []


def test_a_typo_is_an_unknown_key_with_a_suggestion() -> None:
    assert _issues({"agents": {"defaults": {"modle": {"primary": "x"}}}}) == [
        ("agents.defaults.modle", "unknown key; did you mean 'model'?")
    ]
    assert _issues({"zzz": 1}) == [("zzz", "unknown key")]


@pytest.mark.parametrize(
    ("fragment", "expected"),
    [
        (
            {"agents": {"defaults": {"timeoutSeconds": "300"}}},
            ("agents.defaults.timeoutSeconds", "must be an integer, not a string"),
        ),
        (
            {"gateway": {"bind": "0.0.0.0"}},
            ("gateway.bind", "must be one of 'auto', 'lan', 'loopback', 'custom', 'tailnet'"),
        ),
        (
            {
                "models": {
                    "providers": {"p": {"baseUrl": "u", "models": [{"id": "m", "input": "text"}]}}
                }
            },
            ("models.providers.p.models.0.input", "must be an array, not a string"),
        ),
        ({"browser": {"enabled": "yes"}}, ("browser.enabled", "must be a boolean, not a string")),
    ],
)
def test_wrong_types_and_values(fragment: dict[str, Any], expected: tuple[str, str]) -> None:
    assert _issues(fragment) == [expected]


def test_any_of_branches() -> None:
    schema = {
        "anyOf": [
            {"type": "string"},
            {
                "type": "object",
                "properties": {"a": {"type": "integer"}},
                "additionalProperties": False,
            },
        ]
    }
    assert fragment_issues("x", schema) == []
    assert fragment_issues({"a": "1"}, schema) == [
        FragmentIssue(("a",), "must be an integer, not a string")
    ]
    assert fragment_issues(True, schema) == [
        FragmentIssue((), "must be a string or an object, not a boolean")
    ]


def _spec(tmp_path: Path, fragment_lines: Sequence[str]) -> Path:
    path = tmp_path / "openclaw-compose.yaml"
    lines = ["profiles:", "  main:", "    port: 18789", "    openclaw:", *fragment_lines]
    path.write_text("\n".join(lines) + "\n")
    return path


def _cache(schema: dict[str, Any], version: str = "2026.9.6") -> None:
    schema_cache().mkdir(parents=True, exist_ok=True)
    (schema_cache() / f"{version}.json").write_text(json.dumps(schema))


def test_check_names_profile_key_path_and_line(tmp_path: Path) -> None:
    _cache(SCHEMA)
    spec = _spec(tmp_path, ["      agents:", "        defaults:", "          modle: x"])
    problems = list(fragment_problems(load_spec(spec)))
    assert [(p.severity, p.profiles) for p in problems] == [("error", ("main",))]
    assert problems[0].message.startswith(f"{spec}: profiles.main.openclaw.agents.defaults.modle: ")
    assert "did you mean 'model'?" in problems[0].message
    assert problems[0].message.endswith("(line 7)")


def test_without_a_schema_check_warns_that_it_could_not_validate(tmp_path: Path) -> None:
    spec = _spec(tmp_path, ["      agents: {defaults: {modle: x}}"])
    problems = list(fragment_problems(load_spec(spec)))
    assert [(p.severity, p.code) for p in problems] == [("warning", "openclaw-schema")]
    assert "could not be validated" in problems[0].message


def test_the_schema_is_taken_from_the_image_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = FakeEngine().with_images("openclaw-compose/gateway:2026.9.6")
    calls: list[Sequence[str]] = []

    def run_once(image: str, command: Sequence[str], **_: Any) -> tuple[int, str]:
        calls.append(command)
        return 0, "warming up\n" + json.dumps(SCHEMA) + "\n"

    monkeypatch.setattr(engine.containers, "run_once", run_once)
    spec = load_spec(_spec(tmp_path, ["      agents: {defaults: {modle: x}}"])).spec
    fetch_schemas(spec, engine)
    fetch_schemas(spec, engine)
    assert calls == [("openclaw", "config", "schema", "--json")]
    assert json.loads((schema_cache() / "2026.9.6.json").read_text()) == SCHEMA
