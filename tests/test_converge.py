"""The config diff that up/deploy apply to running gateways, and the plan (pure logic)."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from openclaw_compose.core.converge import (
    ConfigChange,
    diff,
    dotted,
    leaves,
    parse_config,
    patch_document,
)

DESIRED = {
    "gateway": {"port": 18789, "auth": {"mode": "token"}},
    "models": {"providers": {"p": {"apiKey": "${KEY}", "models": [{"id": "m"}]}}},
}


def test_nothing_to_do_when_live_holds_every_owned_key() -> None:
    live = {**DESIRED, "agents": {"defaults": {"heartbeat": {"every": "2h"}}}}  # user's own key
    assert not diff(DESIRED, live, DESIRED)


def test_changed_and_new_keys_are_set_and_user_keys_kept() -> None:
    live = {"gateway": {"port": 18789, "auth": {"mode": "none"}}, "user": {"x": 1}}
    change = diff(DESIRED, live, None)
    assert change.sets == (
        ("gateway", "auth", "mode"),
        ("models", "providers", "p", "apiKey"),
        ("models", "providers", "p", "models"),
    )
    assert change.unsets == ()
    patch = patch_document(DESIRED, change)
    assert patch == {
        "gateway": {"auth": {"mode": "token"}},
        "models": {"providers": {"p": {"apiKey": "${KEY}", "models": [{"id": "m"}]}}},
    }
    assert "user" not in patch


def test_a_key_the_file_dropped_is_unset_only_when_applied_before_and_still_live() -> None:
    applied = {**DESIRED, "agents": {"defaults": {"timeoutSeconds": 300}}, "gone": {"a": 1}}
    live = {**DESIRED, "agents": {"defaults": {"timeoutSeconds": 300, "mine": True}}}
    change = diff(DESIRED, live, applied)
    assert change == ConfigChange((), (("agents", "defaults", "timeoutSeconds"),))
    assert patch_document(DESIRED, change) == {"agents": {"defaults": {"timeoutSeconds": None}}}
    assert change.describe() == "unset agents.defaults.timeoutSeconds"


def test_a_key_now_under_or_over_an_owned_key_is_not_unset() -> None:
    applied = {"a": {"b": 1}}
    desired = {"a": {"b": {"c": 2}}}
    assert diff(desired, {"a": {"b": 1}}, applied) == ConfigChange((("a", "b", "c"),), ())


def test_unreadable_live_config_sets_everything_and_unsets_every_dropped_key() -> None:
    change = diff({"a": 1}, parse_config("{ json5: 'not json', }"), {"b": 2})
    assert change == ConfigChange((("a",),), (("b",),))


def test_values_are_never_described() -> None:
    change = diff({"k": "sk-secret-value"}, {}, None)
    assert "sk-secret" not in change.describe() + str(change.to_json())


def test_paths_print_as_openclaws_cli_writes_them() -> None:
    assert dotted(("agents", "defaults", "models", "openai/gpt-5.4")) == (
        'agents.defaults.models["openai/gpt-5.4"]'
    )
    assert dotted(("models", "providers", "a.b", "x")) == 'models.providers["a.b"].x'


configs = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=3),
    lambda inner: st.dictionaries(st.sampled_from("abc"), inner, max_size=3),
    max_leaves=8,
).filter(lambda value: isinstance(value, dict))


def _apply(live: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    """``openclaw config patch`` semantics: objects merge, null deletes, the rest replaces."""
    result = dict(live)
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        elif isinstance(value, dict) and value and isinstance(result.get(key), dict):
            result[key] = _apply(result[key], value)
        else:
            result[key] = value
    return result


@given(desired=configs, live=configs, applied=configs)
def test_applying_the_patch_converges(
    desired: dict[str, Any], live: dict[str, Any], applied: dict[str, Any]
) -> None:
    """After the patch, every owned leaf holds its value and nothing is left to do."""
    after = _apply(live, patch_document(desired, diff(desired, live, applied)))
    assert not diff(desired, after, applied).sets
    assert all(_at(after, path) == value for path, value in leaves(desired) if value is not None)


def _at(config: Any, path: tuple[str, ...]) -> Any:
    for key in path:
        config = config[key]
    return config
