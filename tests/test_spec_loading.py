from __future__ import annotations

from pathlib import Path

import pytest

from openclaw_compose.core.loading import EMBEDDED, load_spec, validate
from openclaw_compose.core.spec import DEFAULT_IMAGE, OPENCLAW_VERSION
from openclaw_compose.errors import SpecError, UsageError

from .helpers import ISSUE_EXAMPLE, write_tree


def _load_error(tmp_path: Path, text: str) -> SpecError:
    write_tree(tmp_path, {"spec.yaml": text})
    with pytest.raises(SpecError) as info:
        load_spec(tmp_path / "spec.yaml")
    return info.value


def test_embedded_default_when_no_file(tmp_path: Path) -> None:
    loaded = load_spec(None, cwd=tmp_path)
    assert loaded.source == EMBEDDED
    assert {name: p.port for name, p in loaded.spec.profiles.items()} == {
        "main": 18789,
        "rescue": 19789,
    }
    assert loaded.spec.project == "openclaw"
    assert loaded.spec.images() == {DEFAULT_IMAGE: (OPENCLAW_VERSION, False)}
    assert loaded.spec.upgrade_order() == ["rescue", "main"]
    assert str(loaded.spec.publish_address) == "127.0.0.1"


def test_default_file_in_cwd_wins_over_embedded(tmp_path: Path) -> None:
    write_tree(tmp_path, {"openclaw-compose.yaml": "profiles:\n  solo:\n    port: 20000\n"})
    assert list(load_spec(None, cwd=tmp_path).spec.profiles) == ["solo"]


def test_full_example_from_the_issue(tmp_path: Path) -> None:
    write_tree(tmp_path, {"spec.yaml": ISSUE_EXAMPLE})
    rescue = load_spec(tmp_path / "spec.yaml").spec.profiles["rescue"]
    assert rescue.openclaw.browser.profiles["work"].cdpPort == 19950
    assert rescue.state_dir == (tmp_path / "data/rescue/state").resolve()
    assert rescue.openclaw.as_config()["channels"] == {"anything": ["goes", "here"]}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "profiles:\n  main:\n    port: 18789\n    prot: 1\n",
            "profiles.main.prot: unknown key 'prot'; did you mean 'port'? (line 4)",
        ),
        (
            "profiles:\n  main:\n    port: 'x18789'\n",
            "profiles.main.port: must be a whole number, e.g. 'port: 18789' (got the text "
            "'x18789') (line 3)",
        ),
        (
            "profiles:\n  main: {}\n",
            "profiles.main.port: required but missing; add it, e.g. 'port: 18789' (line 2)",
        ),
        (
            "profiles: {}\n",
            "profiles: Dictionary should have at least 1 item after validation, not 0 (line 1)",
        ),
        (
            "profiles:\n  default:\n    port: 1\n",
            "profiles.default: 'default' is reserved by OpenClaw (it means no profile); "
            "choose another name (line 2)",
        ),
        (
            "project: My Project\nprofiles:\n  a:\n    port: 20000\n",
            "project: project name 'My Project' is not a valid compose project name: use "
            "lowercase letters, digits, '-' or '_', starting with a letter or digit (line 1)",
        ),
        (
            "publish_address: localhost\nprofiles:\n  a:\n    port: 20000\n",
            "publish_address: value is not a valid IPv4 or IPv6 address (line 1)",
        ),
        (
            "profiles:\n  a:\n    port: 20000\n    openclaw:\n      browser:\n"
            "        profiles:\n          w: {cdpPort: high}\n",
            "profiles.a.openclaw.browser.profiles.w.cdpPort: must be a whole number, e.g. "
            "'cdpPort: 18800' (got the text 'high') (line 7)",
        ),
    ],
)
def test_schema_errors_name_field_and_line(tmp_path: Path, text: str, expected: str) -> None:
    error = _load_error(tmp_path, text)
    assert error.code == "schema"
    assert expected in [str(issue) for issue in error.issues]


def test_bad_profile_name_is_explained(tmp_path: Path) -> None:
    error = _load_error(tmp_path, "profiles:\n  Main:\n    port: 20000\n")
    assert "profile name 'Main' is not allowed" in str(error.issues[0])
    assert error.issues[0].profile == "Main"


def test_names_differing_only_by_dash_and_underscore(tmp_path: Path) -> None:
    error = _load_error(tmp_path, "profiles:\n  a-b:\n    port: 20000\n  a_b:\n    port: 30000\n")
    assert "would share the token variable OPENCLAW_TOKEN_A_B" in error.message


def test_fragment_port_must_match(tmp_path: Path) -> None:
    error = _load_error(
        tmp_path,
        "profiles:\n  a:\n    port: 20000\n    openclaw:\n      gateway: {port: 20001}\n",
    )
    assert "openclaw.gateway.port (20001) differs from port (20000)" in error.message


def test_duplicate_keys_are_errors(tmp_path: Path) -> None:
    error = _load_error(tmp_path, "profiles:\n  a:\n    port: 1\n    port: 2\n")
    assert error.code == "yaml"
    assert 'found duplicate key "port"' in error.message
    assert error.issues[0].line == 4


def test_malformed_yaml(tmp_path: Path) -> None:
    error = _load_error(tmp_path, "profiles:\n  a: [1,\n")
    assert error.code == "yaml"
    assert error.issues[0].line is not None


def test_empty_and_non_mapping_files(tmp_path: Path) -> None:
    assert "the file is empty" in _load_error(tmp_path, "").message
    assert "must be a mapping" in _load_error(tmp_path, "- a\n").message


def test_unreadable_files_are_usage_errors(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="no such file"):
        load_spec(tmp_path / "missing.yaml")
    with pytest.raises(UsageError, match="is a directory"):
        load_spec(tmp_path)
    (tmp_path / "latin1.yaml").write_bytes(b"project: caf\xe9\n")
    with pytest.raises(UsageError, match="not UTF-8"):
        load_spec(tmp_path / "latin1.yaml")


def test_host_network_binds_loopback_or_everything(tmp_path: Path) -> None:
    error = _load_error(
        tmp_path, "network: host\npublish_address: 10.1.2.3\nprofiles:\n  a:\n    port: 20000\n"
    )
    assert "publish_address 10.1.2.3 needs 'network: bridge'" in error.message
    write_tree(
        tmp_path,
        {"ok.yaml": "network: bridge\npublish_address: 10.1.2.3\nprofiles:\n  a: {port: 20000}\n"},
    )
    assert load_spec(tmp_path / "ok.yaml").spec.network == "bridge"


def test_bridge_is_the_default_and_egress_none_needs_it(tmp_path: Path) -> None:
    write_tree(tmp_path, {"d.yaml": "profiles:\n  a: {port: 20000, egress: none}\n"})
    spec = load_spec(tmp_path / "d.yaml").spec
    assert (spec.network, spec.profiles["a"].egress) == ("bridge", "none")
    assert spec.to_document()["profiles"]["a"]["egress"] == "none"
    error = _load_error(tmp_path, "network: host\nprofiles:\n  a: {port: 20000, egress: none}\n")
    assert "egress: none (profiles a) needs 'network: bridge'" in error.message


@pytest.mark.parametrize(
    ("profile", "expected"),
    [
        ("{port: 20000, host_services: {Models: 11434}}", "host service name 'Models'"),
        ("{port: 20000, host_services: {m: 0}}", "greater than or equal to 1"),
        ("{port: 20000, host_services: {m: 70000}}", "less than or equal to 65535"),
        ("{port: 20000, host_services: {m: 5432, n: '5432'}}", "port 5432 more than once"),
        ("{port: 20000, host_services: [11434]}", "host_services"),
    ],
)
def test_host_services_are_named_ports(tmp_path: Path, profile: str, expected: str) -> None:
    assert expected in _load_error(tmp_path, f"profiles:\n  a: {profile}\n").message


def test_host_services_need_bridge(tmp_path: Path) -> None:
    write_tree(tmp_path, {"d.yaml": "profiles:\n  a: {port: 20000, host_services: {m: '8080'}}\n"})
    spec = load_spec(tmp_path / "d.yaml").spec
    assert spec.profiles["a"].host_services == {"m": 8080}
    assert spec.to_document()["profiles"]["a"]["host_services"] == {"m": 8080}
    error = _load_error(
        tmp_path, "network: host\nprofiles:\n  a: {port: 1, host_services: {m: 2}}\n"
    )
    assert "host_services (profiles a) needs 'network: bridge'" in error.message


def test_node_is_a_hostname_or_a_label(tmp_path: Path) -> None:
    write_tree(
        tmp_path,
        {
            "spec.yaml": """
            swarm: {publish_browser_ports: true}
            profiles:
              a: {port: 20000, node: gw-1.example.org}
              b: {port: 20000, node: openclaw.node=b}
            """
        },
    )
    spec = load_spec(tmp_path / "spec.yaml").spec
    assert [p.node for p in spec.profiles.values()] == ["gw-1.example.org", "openclaw.node=b"]
    assert spec.swarm.publish_browser_ports is True
    assert spec.to_document()["profiles"]["b"]["node"] == "openclaw.node=b"


def test_bad_node_and_swarm_keys_name_their_field(tmp_path: Path) -> None:
    error = _load_error(
        tmp_path,
        """
        swarm:
          publish_browser_port: true
        profiles:
          a:
            port: 20000
            node: "gw 1"
        """,
    )
    messages = [str(issue) for issue in error.issues]
    assert messages == [
        "swarm.publish_browser_port: unknown key 'publish_browser_port'; did you mean "
        "'publish_browser_ports'? (line 2)",
        "profiles.a.node: node 'gw 1' is neither a swarm node hostname (letters, digits, '.' "
        "and '-') nor a node label KEY=VALUE (letters, digits, '.', '_' and '-' on each side) "
        "(line 6)",
    ]


def test_images_follow_openclaw_version_per_profile() -> None:
    spec = validate(
        {
            "openclaw_version": "2026.9.5",
            "profiles": {
                "main": {"port": 18789},
                "rescue": {"port": 19789, "role": "rescue", "browser": True},
                "next": {"port": 20789, "openclaw_version": "2026.9.6"},
                "mine": {"port": 21789, "image": "me/gateway:1"},
            },
        },
        source="test",
    )
    assert spec.images() == {
        "openclaw-compose/gateway:2026.9.5": ("2026.9.5", False),
        "openclaw-compose/gateway:2026.9.5-browser": ("2026.9.5", True),
        "openclaw-compose/gateway:2026.9.6": ("2026.9.6", False),
        "me/gateway:1": None,
    }
    assert spec.upgrade_order() == ["rescue", "main", "next", "mine"]
    moved = spec.at_version("2026.9.6")
    assert set(moved.images()) == {
        "openclaw-compose/gateway:2026.9.6",
        "openclaw-compose/gateway:2026.9.6-browser",
    }
    assert validate(spec.to_document(), source="again") == spec


def test_custom_top_level_image_yields_to_a_profile_version() -> None:
    spec = validate(
        {
            "image": "me/gateway:1",
            "profiles": {
                "a": {"port": 18789},
                "b": {"port": 19789, "openclaw_version": "2026.9.5"},
            },
        },
        source="test",
    )
    assert spec.profiles["a"].image_ref(spec) == "me/gateway:1"
    assert spec.profiles["b"].image_ref(spec) == "openclaw-compose/gateway:2026.9.5"


@pytest.mark.parametrize("version", ["latest", "2026.9", "v2026.9.6", ""])
def test_bad_openclaw_version_is_refused(version: str) -> None:
    with pytest.raises(SpecError, match="not an npm version"):
        validate({"openclaw_version": version, "profiles": {"a": {"port": 18789}}}, source="t")
