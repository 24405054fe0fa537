"""Each example of the promises issue (hostile input, unlucky users): a message with a
documented exit code, no traceback, nothing written, no token lost. The fuzz, crash and
concurrency tests cover the classes these examples come from."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from openclaw_compose.core import journal as journal_module
from openclaw_compose.core import yamlscan
from openclaw_compose.core.checks import HostFacts, run_checks
from openclaw_compose.core.contract import RenderedProject
from openclaw_compose.core.envfile import read_env
from openclaw_compose.core.journal import JOURNAL_DIR, digest
from openclaw_compose.core.loading import validate
from openclaw_compose.core.ports import plan_ports
from openclaw_compose.core.writing import SUMS_FILE, write_project
from openclaw_compose.errors import ExitCode, OutputError

from .helpers import run_cli, snapshot, write_tree

TWO = "profiles:\n  main:\n    port: 18789\n  rescue:\n    port: 19789\n"
THREE = TWO + "  third:\n    port: 20789\n"


def _generate(work: Path, spec: str, *args: str) -> tuple[int, str]:
    write_tree(work, {"openclaw-compose.yaml": spec})
    result = run_cli("generate", "-f", work / "openclaw-compose.yaml", "-o", work / "out", *args)
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    return result.exit_code, result.stderr


def _refused(work: Path, spec: str, code: ExitCode, *needles: str) -> str:
    """``generate`` on ``spec`` fails with ``code`` and changes nothing in ``work``."""
    write_tree(work, {"openclaw-compose.yaml": spec})
    before = snapshot(work)
    exit_code, stderr = _generate(work, spec)
    assert exit_code == code, stderr
    assert stderr.startswith("error: ")
    for needle in needles:
        assert needle in stderr
    assert snapshot(work) == before
    return stderr


# --- tokens lost -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("poison", "where"),
    [  # after the header, two tokens and two secrets digests
        ("# café\n".encode("latin-1"), "line 6: byte 6 is not UTF-8"),
        (b"A=\0\n", "line 6: contains a NUL byte"),
    ],
)
def test_unreadable_env_line_is_refused_not_repaired(
    tmp_path: Path, poison: bytes, where: str
) -> None:
    assert _generate(tmp_path, TWO)[0] == ExitCode.OK
    env = tmp_path / "out" / ".env"
    env.write_bytes(env.read_bytes() + poison)
    _refused(tmp_path, THREE, ExitCode.OUTPUT, f".env, {where}", "nothing was changed")


def test_bom_in_env_is_refused(tmp_path: Path) -> None:
    assert _generate(tmp_path, TWO)[0] == ExitCode.OK
    env = tmp_path / "out" / ".env"
    env.write_bytes(b"\xef\xbb\xbf" + env.read_bytes())
    _refused(tmp_path, TWO, ExitCode.OUTPUT, ".env, line 1: starts with a byte order mark")


@pytest.mark.parametrize(
    "empty", ["OPENCLAW_TOKEN_MAIN=", 'OPENCLAW_TOKEN_MAIN=""', "OPENCLAW_TOKEN_MAIN='' # x"]
)
def test_empty_token_is_refused(tmp_path: Path, empty: str) -> None:
    write_tree(tmp_path, {"out/.env": f"KEEP=1\n{empty}\n"})
    _refused(tmp_path, TWO, ExitCode.OUTPUT, ".env, line 2: OPENCLAW_TOKEN_MAIN is empty")


def test_env_keeps_user_bytes_and_only_appends(tmp_path: Path) -> None:
    user = b"# mine\r\nexport OPENCLAW_TOKEN_MAIN='quoted-token' # comment\r\nOTHER=x"
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / ".env").write_bytes(user)
    assert _generate(tmp_path, TWO)[0] == ExitCode.OK
    data = (tmp_path / "out" / ".env").read_bytes()
    assert data.startswith(user + b"\n")
    assert data[len(user) + 1 :].decode().startswith("OPENCLAW_TOKEN_RESCUE=")
    assert b"OPENCLAW_TOKEN_MAIN=" not in data[len(user) :]


def test_loose_env_mode_is_tightened_with_a_note(tmp_path: Path) -> None:
    assert _generate(tmp_path, TWO)[0] == ExitCode.OK
    env = tmp_path / "out" / ".env"
    env.chmod(0o644)
    code, stderr = _generate(tmp_path, TWO)
    assert code == ExitCode.OK
    assert "note: " in stderr
    assert "mode 0644; made it 0600" in stderr
    assert stat.S_IMODE(env.stat().st_mode) == 0o600


# --- files outside the output directory --------------------------------------------------------


def test_sums_names_are_never_paths(tmp_path: Path) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    assert _generate(tmp_path, TWO)[0] == ExitCode.OK
    sums = tmp_path / "out" / SUMS_FILE
    line = f"{digest(victim.read_bytes())}  "
    hostile = [f"{line}../victim.txt", f"{line}{victim}", f"{line}seeds/../../victim.txt"]
    sums.write_text(sums.read_text() + "\n".join(hostile) + "\n")
    assert _generate(tmp_path, TWO)[0] == ExitCode.OK
    assert victim.read_text() == "precious\n"


@pytest.mark.parametrize("content", [b"\xff\xfe garbage\n", b"", b"zz  compose.yaml\n"])
def test_unreadable_sums_count_as_hand_edits(tmp_path: Path, content: bytes) -> None:
    assert _generate(tmp_path, TWO)[0] == ExitCode.OK
    (tmp_path / "out" / SUMS_FILE).write_bytes(content)
    _refused(tmp_path, THREE, ExitCode.OUTPUT, "changed by hand")


def test_symlinked_seeds_dir_is_refused(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "seeds").symlink_to(elsewhere)
    _refused(tmp_path, TWO, ExitCode.OUTPUT, "seeds: is a symbolic link")


# --- isolation: interpolation, the output directory, auth, CDP ---------------------------------


def test_dollar_in_paths_and_images_is_escaped(tmp_path: Path) -> None:
    spec = (
        "image: 'img$OPENCLAW_TOKEN_RESCUE'\n"
        "profiles:\n  main:\n    port: 18789\n    config_dir: ./c$OPENCLAW_TOKEN_RESCUE\n"
        "  rescue:\n    port: 19789\n    config_dir: ./c\n"
    )
    assert _generate(tmp_path, spec)[0] == ExitCode.OK
    compose = (tmp_path / "out" / "compose.yaml").read_text()
    assert '/c$$OPENCLAW_TOKEN_RESCUE:/home/node/.openclaw-config"' in compose
    assert 'image: "img$$OPENCLAW_TOKEN_RESCUE"' in compose
    assert "$OPENCLAW_TOKEN_RESCUE" not in compose.replace("$$", "")


@pytest.mark.parametrize(
    ("bind", "needle"),
    [
        (".", "contains the output directory"),
        ("./out", "is the output directory"),
        ("/", "contains the output directory"),
        ("./out/seeds", "out/seeds, which openclaw-compose writes itself"),
        ("./out/.openclaw-compose.journal/x", "journal, which openclaw-compose writes itself"),
    ],
)
def test_bind_path_holding_the_output_dir_is_refused(
    tmp_path: Path, bind: str, needle: str
) -> None:
    spec = f"profiles:\n  main:\n    port: 18789\n    state_dir: {bind}\n"
    _refused(tmp_path, spec, ExitCode.PROBLEMS, "[path-output]", needle)


def test_bind_path_of_its_own_inside_the_output_dir_is_fine(tmp_path: Path) -> None:
    spec = "profiles:\n  main:\n    port: 18789\n    state_dir: ./out/data/main\n"
    assert _generate(tmp_path, spec)[0] == ExitCode.OK


def test_no_auth_beyond_loopback_is_refused(tmp_path: Path) -> None:
    spec = (
        "network: bridge\npublish_address: 0.0.0.0\nprofiles:\n  main:\n    port: 18789\n"
        "    openclaw: {gateway: {auth: {mode: none}}}\n"
    )
    _refused(tmp_path, spec, ExitCode.PROBLEMS, "[compose-auth]")
    loopback = spec.replace("0.0.0.0", "127.0.0.1")
    assert _generate(tmp_path, loopback)[0] == ExitCode.OK


def test_cdp_url_at_another_profiles_port_is_refused(tmp_path: Path) -> None:
    spec = (
        "profiles:\n  main:\n    port: 18789\n"
        "    openclaw: {browser: {cdpUrl: 'http://localhost:19800'}}\n"
        "  rescue:\n    port: 19789\n"
    )
    _refused(tmp_path, spec, ExitCode.PROBLEMS, "[cdp-url-foreign]", "'rescue'")


def test_profiles_file_name_with_a_newline_is_refused(tmp_path: Path) -> None:
    spec = tmp_path / "x\nservices: {}\n#.yaml"
    spec.write_text(TWO)
    result = run_cli("generate", "-f", spec, "-o", tmp_path / "out")
    assert result.exit_code == ExitCode.USAGE
    assert "line break" in result.stderr
    assert not (tmp_path / "out").exists()


def test_profiles_file_name_not_utf8_is_refused(tmp_path: Path) -> None:
    name = os.fsdecode(b"spec-\xff.yaml")
    (tmp_path / name).write_text(TWO)
    result = run_cli("generate", "-f", tmp_path / name, "-o", tmp_path / "out")
    assert result.exit_code == ExitCode.USAGE
    assert "not UTF-8" in result.stderr
    assert not (tmp_path / "out").exists()


# --- resource exhaustion and tracebacks in the profiles file -----------------------------------

BOMB = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 10)}]\n" for i in range(8)
)


@pytest.mark.parametrize(
    ("fragment", "needle"),
    [
        (BOMB.replace("\n", "\n      ").rstrip(), "expands to more than 1,000,000 values"),
        ("x: " + "[" * 100_000 + "]" * 100_000, "nested deeper than 64 levels"),
        ("base: &b {k: 1}\n      x: {<<: *b}", "merge key"),
        ("x: !!binary aGVsbG8=", "tag:yaml.org,2002:binary"),
        ("x: 2024-13-45", "a date or time is not JSON"),
        ("x: 2024-01-01", "a date or time is not JSON"),
        ("x: .inf", "infinity and NaN"),
        ("1: one", "a mapping key must be a string"),
        ("x: !!set {a}", "tag:yaml.org,2002:set"),
    ],
)
def test_hostile_yaml_is_refused_with_its_line(tmp_path: Path, fragment: str, needle: str) -> None:
    spec = f"profiles:\n  main:\n    port: 18789\n    openclaw:\n      {fragment}\n"
    stderr = _refused(tmp_path, spec, ExitCode.PROBLEMS, needle)
    assert "(line " in stderr


@pytest.mark.parametrize(
    ("path", "needle"),
    [
        ("./a:b", "contains ':'"),
        ('"./a\\0b"', "NUL byte"),
        ("~nosuchuser-openclaw/x", "~nosuchuser-openclaw names no user"),
        ("./loop/x", "a loop"),
        ("./file", "is a file, not a directory"),
        ("./file/state", "is a file, not a directory"),
        ('"./a\\nb"', "line break"),
    ],
)
def test_unusable_host_paths_fail_the_checks(tmp_path: Path, path: str, needle: str) -> None:
    (tmp_path / "loop").symlink_to(tmp_path / "loop")
    (tmp_path / "file").write_text("x")
    spec = f"profiles:\n  main:\n    port: 18789\n    state_dir: {path}\n"
    _refused(tmp_path, spec, ExitCode.PROBLEMS, "[path-invalid]", "profiles.main.state_dir", needle)
    result = run_cli("check", "-f", tmp_path / "openclaw-compose.yaml")
    assert result.exit_code == ExitCode.PROBLEMS
    assert needle in result.stdout


# --- plan then apply (issue 8) -----------------------------------------------------------------


def test_failing_bind_directory_leaves_output_exactly_as_it_was(tmp_path: Path) -> None:
    """The swarm target does not look at this host's file system in its checks (paths belong
    to the node), so the writer meets a bind directory that cannot be made."""
    assert _generate(tmp_path, TWO)[0] == ExitCode.OK
    (tmp_path / "file").write_text("x")
    spec = THREE + "    state_dir: ./file/state\n"
    write_tree(tmp_path, {"openclaw-compose.yaml": spec})
    before = snapshot(tmp_path)
    result = run_cli(
        "generate", "-t", "swarm", "-f", tmp_path / "openclaw-compose.yaml", "-o", tmp_path / "out"
    )
    assert result.exit_code == ExitCode.OUTPUT, result.output
    assert "nothing was changed" in result.stderr
    assert snapshot(tmp_path) == before


def test_failing_bind_directory_in_a_new_output_dir_leaves_no_dir(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    project = RenderedProject({"compose.yaml": "x\n"}, (), (tmp_path / "file" / "state",))
    with pytest.raises(OutputError, match="nothing was changed"):
        write_project(tmp_path / "new" / "out", project)
    assert not (tmp_path / "new" / "out").exists()


# --- the new checks, one by one ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "node", "expected"),
    [
        ("http://127.0.0.1:19800", None, True),  # rescue's CDP range
        ("ws://localhost:19789/x", None, True),  # rescue's gateway port
        ("http://[::1]:19950", None, True),  # rescue's explicit cdpPort
        ("http://127.0.0.1:18800", None, False),  # main's own range
        ("http://10.0.0.5:19800", None, False),  # not loopback
        ("http://127.0.0.1:19800", "other-node", False),  # another node's loopback
    ],
)
def test_cdp_url_foreign(url: str, node: str | None, expected: bool) -> None:
    main: dict[str, object] = {"port": 18789, "openclaw": {"browser": {"cdpUrl": url}}}
    if node:
        main["node"] = node
    spec = validate(
        {
            "profiles": {
                "main": main,
                "rescue": {
                    "port": 19789,
                    "openclaw": {"browser": {"profiles": {"w": {"cdpPort": 19950}}}},
                },
            }
        },
        source="spec",
    )
    problems = run_checks(spec, plan_ports(spec), HostFacts()).problems
    codes = [p.code for p in problems]
    assert ("cdp-url-foreign" in codes) == expected, problems


def test_temporaries_of_earlier_versions_are_removed_and_nothing_else(tmp_path: Path) -> None:
    assert _generate(tmp_path, TWO)[0] == ExitCode.OK
    out = tmp_path / "out"
    ours = [out / ".compose.yaml.k2j_9x0a.tmp", out / "seeds" / ".main.json.0a1b2c3d.tmp"]
    theirs = [out / ".notes.k2j_9x0a.tmp", out / ".compose.yaml.toolong99.tmp", out / "x.tmp"]
    for path in ours + theirs:
        path.write_text("x")
    assert _generate(tmp_path, TWO)[0] == ExitCode.OK
    assert [path.exists() for path in ours + theirs] == [False, False, True, True, True]


def test_a_tampered_journal_reaches_nothing_outside(tmp_path: Path) -> None:
    assert _generate(tmp_path, TWO)[0] == ExitCode.OK
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    journal = tmp_path / "out" / JOURNAL_DIR
    journal.mkdir()
    (journal / "0").write_text("evil\n")
    intent = {"write": [["0", "../victim.txt", None]], "remove": [str(victim), "../victim.txt"]}
    (journal / "intent.json").write_text(json.dumps(intent))
    code, stderr = _generate(tmp_path, TWO)
    assert code == ExitCode.OK, stderr
    assert "note: completed or undid" in stderr
    assert victim.read_text() == "precious\n"
    assert not journal.exists()


def test_an_unreadable_journal_is_a_message(tmp_path: Path) -> None:
    assert _generate(tmp_path, TWO)[0] == ExitCode.OK
    journal = tmp_path / "out" / JOURNAL_DIR
    journal.mkdir()
    (journal / "intent.json").write_bytes(b"\xff{")
    _refused(tmp_path, TWO, ExitCode.OUTPUT, "unreadable journal of an interrupted run")


def test_env_edited_after_a_crash_keeps_the_edit_and_gains_the_crashed_runs_tokens(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run is killed right after its commit; the user edits .env before the next run, which
    completes the killed run's write: the edit stays, and the token it handed out is added."""
    assert _generate(tmp_path, TWO)[0] == ExitCode.OK
    env = tmp_path / "out" / ".env"

    def killed(out_dir: Path, journal: Path) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(journal_module, "_apply", killed)
    assert _generate(tmp_path, THREE)[0] == ExitCode.INTERRUPTED
    monkeypatch.undo()
    journal = tmp_path / "out" / JOURNAL_DIR
    staged = next(
        n
        for n, name, _ in json.loads((journal / "intent.json").read_text())["write"]
        if name == ".env"
    )
    handed_out = read_env((journal / staged).read_text())["OPENCLAW_TOKEN_THIRD"]
    env.write_text(env.read_text() + "MINE=1\n")
    before = read_env(env.read_text())
    code, stderr = _generate(tmp_path, THREE)
    assert code == ExitCode.OK, stderr
    after = read_env(env.read_text())
    assert after["MINE"] == "1"
    assert {k: after[k] for k in before} == before
    assert after["OPENCLAW_TOKEN_THIRD"] == handed_out
    assert env.read_text().count("OPENCLAW_TOKEN_THIRD=") == 1


@pytest.mark.parametrize(
    ("text", "values"),
    [
        ("a: 1", 3),  # the mapping, its key, its value
        ("a: &x [1, 2]\nb: *x", 9),  # 1 + (a, [1, 2]) 4 + (b, *x) 1 + 3
        ("a: &x [1, 2]\nb: &y [*x, *x]\nc: [*y, *y]", 29),
    ],
)
def test_scan_counts_every_value_of_the_expanded_document_once(
    monkeypatch: pytest.MonkeyPatch, text: str, values: int
) -> None:
    monkeypatch.setattr(yamlscan, "MAX_NODES", values)
    yamlscan.scan(text)
    monkeypatch.setattr(yamlscan, "MAX_NODES", values - 1)
    with pytest.raises(yamlscan.ScanError, match="expands to more than"):
        yamlscan.scan(text)


@pytest.mark.parametrize("obstacle", ["seeds-file", "compose-dir"])
def test_what_would_fail_a_rename_is_found_before_the_commit(tmp_path: Path, obstacle: str) -> None:
    out = tmp_path / "out"
    if obstacle == "seeds-file":
        write_tree(tmp_path, {"out/seeds": "not a directory\n"})
    else:
        (out / "compose.yaml").mkdir(parents=True)
    write_tree(tmp_path, {"openclaw-compose.yaml": TWO})
    before = snapshot(tmp_path)
    result = run_cli("generate", "--force", "-f", tmp_path / "openclaw-compose.yaml", "-o", out)
    assert result.exit_code == ExitCode.OUTPUT, result.output
    assert "nothing was changed" in result.stderr
    assert snapshot(tmp_path) == before
    assert not (out / JOURNAL_DIR).exists()


def test_an_endless_profiles_file_is_refused(tmp_path: Path) -> None:
    result = run_cli("generate", "-f", "/dev/zero", "-o", tmp_path / "out")
    assert result.exit_code == ExitCode.USAGE
    assert "/dev/zero is not a regular file" in result.stderr
    assert not (tmp_path / "out").exists()
