"""The ``.env`` reader and writer against Compose's own reading (``docker compose config``, which
needs no running container): a stored value reads back byte for byte, and a hand-written
``.env`` is read as Compose reads it, or refused where Compose refuses it. Many values share one
Compose call."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from openclaw_compose.core.envfile import ENV_FILE, quoted, read_env, set_variable
from openclaw_compose.engine import Engine
from openclaw_compose.errors import CommandFailed, OutputError

BATCH = 24
HOSTILE = "'\"\\$#= \t\n\r\x0b\x0c\x1c\x1d\x1e\x85\xa0\u2028\u2029{}:ab"
VALUES = st.text(
    st.one_of(
        st.sampled_from(HOSTILE),
        st.characters(codec="utf-8", exclude_characters="\0"),
    ),
    min_size=1,
    max_size=12,
)
SETTINGS = settings(
    max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def compose_reads(engine: Engine, directory: Path, names: list[str]) -> dict[str, str]:
    """What Compose substitutes for ``${NAME}`` of each name, from ``directory``'s ``.env``."""
    environment = {name: "${" + name + "}" for name in names}
    document = {"name": "envprobe", "services": {"s": {"image": "x", "environment": environment}}}
    (directory / "compose.yaml").write_text(json.dumps(document))
    output = json.loads(engine.compose.run(directory, "config", "--format", "json"))
    read = output["services"]["s"].get("environment") or {}
    return {name: (read.get(name) or "").replace("$$", "$") for name in names}


@SETTINGS
@given(st.lists(VALUES, min_size=BATCH, max_size=BATCH), st.lists(VALUES, min_size=BATCH))
def test_stored_values_read_back_exactly(
    engine: Engine, tmp_path_factory: pytest.TempPathFactory, values: list[str], first: list[str]
) -> None:
    directory = tmp_path_factory.mktemp("store")
    names = [f"V{index}" for index in range(BATCH)]
    text = None
    for name, value in zip(names, first, strict=False):
        text = set_variable(text, name, quoted(value))
    for name, value in zip(names, values, strict=True):
        text = set_variable(text, name, quoted(value))
    assert text is not None
    (directory / ENV_FILE).write_bytes(text.encode())
    expected = dict(zip(names, values, strict=True))
    assert read_env(text) == expected
    assert compose_reads(engine, directory, names) == expected


HAND = st.text(st.sampled_from(["A", "B", "=", ":", "x", " ", "\n", *HOSTILE]), max_size=40)


@settings(SETTINGS, max_examples=40)
@given(HAND)
def test_hand_written_env_is_read_as_compose_reads_it(
    engine: Engine, tmp_path_factory: pytest.TempPathFactory, text: str
) -> None:
    directory = tmp_path_factory.mktemp("hand")
    (directory / ENV_FILE).write_bytes(text.encode())
    try:
        ours: dict[str, str] | None = read_env(text)
    except OutputError:
        ours = None
    try:
        theirs: dict[str, str] | None = compose_reads(engine, directory, ["A", "B"])
    except CommandFailed:
        theirs = None
    if ours is not None:
        ours = {name: ours.get(name, "") for name in ("A", "B")}
    assert ours == theirs
