"""Per-profile env and secrets without Docker: the spec's rules, the store (.env), the checks,
the rendered files and the ``secret`` and ``dashboard`` commands."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from openclaw_compose.cli import common
from openclaw_compose.core.checks import HostFacts
from openclaw_compose.core.envfile import read_env
from openclaw_compose.core.loading import validate
from openclaw_compose.core.spec import PINNED_VARIABLES
from openclaw_compose.engine.records import ContainerState
from openclaw_compose.errors import ExitCode, SpecError
from openclaw_compose.project import check_spec, generate
from tests.fakes import FakeEngine
from tests.helpers import run_cli, write_tree

SPEC = """\
project: keys
profiles:
  main:
    port: 18789
    env: {OPENCLAW_LOG_LEVEL: info, PRICE: "5$ ${HOME}"}
    secrets: [ANTHROPIC_API_KEY, TELEGRAM_BOT_TOKEN]
    openclaw:
      models:
        providers:
          a: {apiKey: "${ANTHROPIC_API_KEY}", models: [{id: m, maxTokens: 10}]}
  rescue:
    port: 19789
    secrets: [ANTHROPIC_API_KEY]
"""


def _issues(data: dict[str, object]) -> str:
    with pytest.raises(SpecError) as info:
        validate(data, source="t")
    return info.value.message


@pytest.mark.parametrize(
    ("profile", "expected"),
    [
        ({"env": {"lower": "x"}}, "'lower' is not an environment variable name"),
        ({"env": {"1A": "x"}}, "'1A' is not an environment variable name"),
        ({"secrets": ["A-B"]}, "'A-B' is not an environment variable name"),
        ({"env": {"OPENCLAW_STATE_DIR": "/x"}}, "OPENCLAW_STATE_DIR is set by openclaw-compose"),
        ({"secrets": ["OPENCLAW_GATEWAY_TOKEN"]}, "OPENCLAW_GATEWAY_TOKEN is set by"),
        ({"secrets": ["K", "K"]}, "secrets lists K more than once"),
        ({"env": {"K": "1"}, "secrets": ["K"]}, "K is in both env and secrets"),
        ({"env": {"K": 1}}, "env.K: must be text; quote it"),
    ],
)
def test_env_and_secret_names_are_checked(profile: dict[str, object], expected: str) -> None:
    message = _issues({"profiles": {"main": {"port": 18789, **profile}}})
    assert expected in message


def test_the_pinned_variables_are_named_in_the_message() -> None:
    message = _issues({"profiles": {"main": {"port": 18789, "env": {"HOME": "/"}}}})
    assert "the pinned variables are " + ", ".join(sorted(PINNED_VARIABLES)) in message


def test_pinned_variables_cover_what_the_container_gets(tmp_path: Path) -> None:
    write_tree(tmp_path, {"openclaw-compose.yaml": SPEC})
    generate(check_spec(tmp_path / "openclaw-compose.yaml", HostFacts()), tmp_path / "out")
    compose = YAML(typ="safe").load((tmp_path / "out" / "compose.yaml").read_text())
    environment = compose["services"]["main"]["environment"]
    assert environment["OPENCLAW_LOG_LEVEL"] == "info"
    assert environment["PRICE"] == "5$$ $${HOME}"  # literal for Compose's interpolation
    assert set(environment) - {"OPENCLAW_LOG_LEVEL", "PRICE"} <= PINNED_VARIABLES
    assert environment["OPENCLAW_COMPOSE_SECRETS"] == (
        "OPENCLAW_GATEWAY_TOKEN,ANTHROPIC_API_KEY,TELEGRAM_BOT_TOKEN"
    )
    assert compose["secrets"]["main-ANTHROPIC_API_KEY"] == {
        "file": "./secrets/OPENCLAW_SECRET_MAIN__ANTHROPIC_API_KEY"
    }
    targets = [s["target"] for s in compose["services"]["rescue"]["secrets"]]
    assert targets == ["OPENCLAW_GATEWAY_TOKEN", "ANTHROPIC_API_KEY"]


def test_secret_variables_of_two_profiles_may_not_collide() -> None:
    message = _issues(
        {
            "profiles": {
                "a": {"port": 18789, "secrets": ["B__C"]},
                "a__b": {"port": 19789, "secrets": ["C"]},
            }
        }
    )
    assert "would share the .env variable OPENCLAW_SECRET_A__B__C" in message


def _project(tmp_path: Path) -> list[str | Path]:
    write_tree(tmp_path, {"openclaw-compose.yaml": SPEC})
    return ["-f", tmp_path / "openclaw-compose.yaml", "-o", tmp_path / "out"]


def test_secret_set_list_rm(tmp_path: Path) -> None:
    where = _project(tmp_path)
    empty = run_cli("secret", "list", *where, "--json")
    assert empty.exit_code == 0, empty.output
    assert [s["set"] for s in json.loads(empty.stdout)["secrets"]] == [False, False, False]
    value = 'sk-a$b c"d'
    result = run_cli("secret", "set", "main", "ANTHROPIC_API_KEY", *where, input=value + "\n")
    assert result.exit_code == 0, result.output
    assert value not in result.output
    env = tmp_path / "out" / ".env"
    assert stat.S_IMODE(env.stat().st_mode) == 0o600
    assert read_env(env.read_text())["OPENCLAW_SECRET_MAIN__ANTHROPIC_API_KEY"] == value
    listed = run_cli("secret", "list", "main", *where)
    assert listed.exit_code == 0
    assert value not in listed.output
    assert "ANTHROPIC_API_KEY   set" in listed.stdout
    assert "TELEGRAM_BOT_TOKEN  unset" in listed.stdout
    assert run_cli("secret", "rm", "main", "ANTHROPIC_API_KEY", *where).exit_code == 0
    assert "ANTHROPIC_API_KEY" not in env.read_text()


@pytest.mark.parametrize(
    ("args", "stdin", "expected"),
    [
        (("main", "NOPE"), "v", "declares no secret NOPE"),
        (("ghost", "ANTHROPIC_API_KEY"), "v", "no profile 'ghost'"),
        (("main", "ANTHROPIC_API_KEY"), "\n", "the value is empty"),
        (("main", "ANTHROPIC_API_KEY"), "a\0b", "contains a NUL byte"),
    ],
)
def test_secret_set_refuses(
    tmp_path: Path, args: tuple[str, str], stdin: str, expected: str
) -> None:
    where = _project(tmp_path)
    result = run_cli("secret", "set", *args, *where, input=stdin)
    assert result.exit_code == ExitCode.USAGE, result.output
    assert expected in result.stderr
    assert not (tmp_path / "out").exists()


def test_secret_rm_of_a_value_never_set(tmp_path: Path) -> None:
    result = run_cli("secret", "rm", "main", "ANTHROPIC_API_KEY", *_project(tmp_path))
    assert result.exit_code == ExitCode.USAGE
    assert "no stored secret ANTHROPIC_API_KEY" in result.stderr


def test_missing_secrets_warn_on_check_and_generate(tmp_path: Path) -> None:
    where = _project(tmp_path)
    check = run_cli("check", *where, "--json")
    assert check.exit_code == 0, check.output
    missing = [p for p in json.loads(check.stdout)["problems"] if p["code"] == "secret-missing"]
    assert [(p["profiles"], p["severity"]) for p in missing] == [
        (["main"], "warning"),
        (["main"], "warning"),
        (["rescue"], "warning"),
    ]
    generated = run_cli("generate", *where)
    assert generated.exit_code == 0
    assert "secret set main TELEGRAM_BOT_TOKEN" in generated.stderr


def test_a_changed_secret_changes_only_its_profiles_digest(tmp_path: Path) -> None:
    where = _project(tmp_path)
    assert run_cli("generate", *where).exit_code == 0
    env = tmp_path / "out" / ".env"
    before = read_env(env.read_text())
    run_cli("secret", "set", "rescue", "ANTHROPIC_API_KEY", *where, input="k1")
    after = read_env(env.read_text())
    assert after["OPENCLAW_SECRETS_DIGEST_RESCUE"] != before["OPENCLAW_SECRETS_DIGEST_RESCUE"]
    assert after["OPENCLAW_SECRETS_DIGEST_MAIN"] == before["OPENCLAW_SECRETS_DIGEST_MAIN"]
    assert "k1" not in after["OPENCLAW_SECRETS_DIGEST_RESCUE"]
    assert run_cli("generate", *where).exit_code == 0
    assert read_env(env.read_text()) == after


def test_secret_files_follow_env_for_the_compose_target_only(tmp_path: Path) -> None:
    """Compose mounts the values from secrets/ (its root is read-only): every run that writes
    .env leaves secrets/ holding exactly its values, readable by the gateway's uid through the
    bind mount, the folder closed to the host's other users and to git."""
    where = _project(tmp_path)
    out = tmp_path / "out"
    run_cli("secret", "set", "main", "ANTHROPIC_API_KEY", *where, input="k1 $x\n")
    assert not (out / "secrets").exists()  # no Compose project here yet: nothing to mount
    assert run_cli("generate", *where).exit_code == 0
    folder = out / "secrets"
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    env = read_env((out / ".env").read_text())
    files = {path.name: path for path in folder.iterdir()}
    assert set(files) == {
        ".gitignore",
        "OPENCLAW_TOKEN_MAIN",
        "OPENCLAW_TOKEN_RESCUE",
        "OPENCLAW_SECRET_MAIN__ANTHROPIC_API_KEY",
    }
    assert files[".gitignore"].read_text() == "*\n"
    for name, path in files.items():
        assert stat.S_IMODE(path.stat().st_mode) == 0o444
        if name != ".gitignore":
            assert path.read_text() == env[name]
    run_cli("secret", "set", "main", "ANTHROPIC_API_KEY", *where, input="k2")
    run_cli("secret", "set", "rescue", "ANTHROPIC_API_KEY", *where, input="k3")
    assert (folder / "OPENCLAW_SECRET_MAIN__ANTHROPIC_API_KEY").read_text() == "k2"
    assert (folder / "OPENCLAW_SECRET_RESCUE__ANTHROPIC_API_KEY").read_text() == "k3"
    run_cli("secret", "rm", "main", "ANTHROPIC_API_KEY", *where)
    assert not (folder / "OPENCLAW_SECRET_MAIN__ANTHROPIC_API_KEY").exists()
    folder.chmod(0o755)
    (folder / "OPENCLAW_TOKEN_MAIN").unlink()
    again = run_cli("generate", *where)
    assert "was mode 0755; made it 0700" in again.stderr
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert (folder / "OPENCLAW_TOKEN_MAIN").read_text() == env["OPENCLAW_TOKEN_MAIN"]
    swarm = tmp_path / "swarm"
    assert run_cli("generate", "-f", where[1], "-o", swarm, "-t", "swarm").exit_code == 0
    assert not (swarm / "secrets").exists()


def test_a_secrets_folder_that_is_a_link_is_refused(tmp_path: Path) -> None:
    where = _project(tmp_path)
    out, elsewhere = tmp_path / "out", tmp_path / "elsewhere"
    elsewhere.mkdir()
    out.mkdir()
    (out / "secrets").symlink_to(elsewhere)
    for args in (("generate",), ("secret", "set", "main", "ANTHROPIC_API_KEY")):
        result = run_cli(*args, *where, input="k")
        assert result.exit_code == ExitCode.OUTPUT, result.output
        assert "secrets: is a symbolic link" in result.stderr
    assert not list(elsewhere.iterdir())


@pytest.mark.parametrize(
    ("fragment", "paths"),
    [
        ({"channels": {"telegram": {"botToken": "123:abc"}}}, ["channels.telegram.botToken"]),
        ({"models": {"providers": {"x": {"apiKey": "sk-1"}}}}, ["models.providers.x.apiKey"]),
        ({"gateway": {"auth": {"password": "hunter2"}}}, ["gateway.auth.password"]),
        ({"a": [{"clientSecret": "s"}]}, ["a.[0].clientSecret"]),
        ({"models": {"providers": {"x": {"apiKey": "${KEY}"}}}}, []),
        ({"models": {"providers": {"x": {"models": [{"maxTokens": 5}]}}}}, []),
        ({"channels": {"t": {"tokenLimit": "5", "botToken": ""}}}, []),
    ],
)
def test_secret_in_config(tmp_path: Path, fragment: dict[str, object], paths: list[str]) -> None:
    spec = tmp_path / "s.yaml"
    spec.write_text(json.dumps({"profiles": {"main": {"port": 18789, "openclaw": fragment}}}))
    report = check_spec(spec, HostFacts())
    found = [p for p in report.report.problems if p.code == "secret-in-config"]
    assert [p.message.split(" ")[0] for p in found] == [
        f"profiles.main.openclaw.{p}" for p in paths
    ]
    assert all(p.severity == "warning" for p in found)
    for problem in found:
        assert "hunter2" not in problem.message
        assert "sk-1" not in problem.message


def test_dashboard_url_holds_the_token(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    where = _project(tmp_path)
    engine = FakeEngine()  # dashboard gives a URL of a running gateway only
    engine.containers.containers["keys"] = {
        name: ContainerState(f"keys-{name}-1", name, "running", "healthy", 0, 1)
        for name in ("main", "rescue")
    }
    monkeypatch.setattr(common, "connect", lambda: engine)
    no_token = run_cli("dashboard", "main", *where)
    assert no_token.exit_code == ExitCode.USAGE
    assert "no token for profile 'main'" in no_token.stderr
    assert run_cli("generate", *where).exit_code == 0
    token = read_env((tmp_path / "out" / ".env").read_text())["OPENCLAW_TOKEN_MAIN"]
    text = run_cli("dashboard", "main", *where)
    assert text.stdout.strip() == f"http://127.0.0.1:18789/#token={token}"
    assert "holds the gateway's token" in text.stderr
    data = json.loads(run_cli("dashboard", "rescue", *where, "--json").stdout)
    assert data["url"].startswith("http://127.0.0.1:19789/#token=")
    assert data["credential"] is True
