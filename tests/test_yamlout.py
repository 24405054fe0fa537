"""The YAML emitter: whatever JSON-like tree it is given reads back as that tree."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from ruamel.yaml import YAML

from openclaw_compose.core.yamlout import emit, scalar

_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
)
_TREES = st.recursive(
    _SCALARS,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.text(min_size=1, max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)


@given(st.dictionaries(st.text(min_size=1, max_size=10), _TREES, min_size=1, max_size=5))
def test_a_tree_reads_back_as_itself(tree: dict[str, Any]) -> None:
    assert YAML(typ="safe", pure=True).load(emit(tree)) == tree


@pytest.mark.parametrize("text", ["\U0001f600", "\\ud83d\\ude00", "a\\\U0001f600\\", "\u2028\x85"])
def test_strings_read_back_exactly(text: str) -> None:
    assert YAML(typ="safe", pure=True).load(emit({"k": text})) == {"k": text}


@pytest.mark.parametrize("value", [float("nan"), float("inf"), object()])
def test_what_yaml_cannot_say_faithfully_is_refused(value: object) -> None:
    with pytest.raises(TypeError):
        scalar(value)
