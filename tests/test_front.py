"""The HTTPS front without Docker: the spec keys, the seed additions, the HAProxy config, the
local CA kept across runs, the checks, ``dashboard`` and ``tunnel``."""

from __future__ import annotations

import datetime
import json
import socket
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any, ClassVar, cast

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from ruamel.yaml import YAML

from openclaw_compose.cli import common
from openclaw_compose.core.checks import CheckCode, HostFacts
from openclaw_compose.core.contract import seed_config
from openclaw_compose.core.front import haproxy_config, seed_additions
from openclaw_compose.core.frontcerts import CA_CERT, CA_KEY, SERVER_CERT, SERVER_KEY, dns_names
from openclaw_compose.core.loading import validate
from openclaw_compose.core.ports import plan_ports
from openclaw_compose.core.spec import Spec
from openclaw_compose.engine.records import ContainerState
from openclaw_compose.errors import ExitCode, NotReadyError, SpecError
from openclaw_compose.host.preflight import front_port_taken
from openclaw_compose.project import check_spec, generate
from openclaw_compose.runtime.pipeline import wait_front
from openclaw_compose.targets.base import Runtime
from openclaw_compose.targets.compose.front import compose_layout
from openclaw_compose.targets.compose.network import published_ports
from tests.fakes import FakeEngine
from tests.helpers import run_cli


def spec_data(**front: Any) -> dict[str, Any]:
    return {
        "project": "fronttest",
        "front": {"address": "0.0.0.0", "port": 26443} | front,
        "profiles": {
            "main": {"port": 18789, "hostname": "main.example.org"},
            "rescue": {"port": 19789, "hostname": "rescue.example.org", "role": "rescue"},
            "quiet": {"port": 20789},
        },
    }


def write_spec(directory: Path, data: dict[str, Any]) -> Path:
    path = directory / "openclaw-compose.yaml"
    path.write_text(json.dumps(data))
    return path


def codes(data: dict[str, Any], tmp_path: Path) -> dict[CheckCode, str]:
    checked = check_spec(write_spec(tmp_path, data), HostFacts())
    return {problem.code: problem.severity for problem in checked.report.problems}


def test_the_issue_example_validates() -> None:
    spec = Spec.model_validate(
        {
            "front": {"address": "0.0.0.0", "port": 443, "tls": "local"},
            "profiles": {"main": {"port": 18789, "hostname": "main.example.org"}},
        }
    )
    assert spec.front is not None
    assert spec.front.tls == "local"
    assert Spec.model_validate(spec.to_document()) == spec
    default = Spec.model_validate({"front": {}, "profiles": {"main": {"port": 18789}}})
    assert default.front is not None
    assert (str(default.front.address), default.front.port) == ("127.0.0.1", 443)


@pytest.mark.parametrize(
    "hostname", ["Main.example.org", "main", "https://main.example.org", "10.0.0.1", "a..b.org"]
)
def test_a_hostname_must_be_a_dns_name(hostname: str) -> None:
    with pytest.raises(SpecError, match="hostname"):
        validate({"profiles": {"main": {"port": 18789, "hostname": hostname}}}, source="spec")


def test_a_profile_named_front_cannot_sit_behind_a_front() -> None:
    with pytest.raises(SpecError, match="named 'front'"):
        validate({"front": {}, "profiles": {"front": {"port": 18789}}}, source="spec")


def test_seed_gets_the_origin_and_the_trusted_proxies() -> None:
    spec = Spec.model_validate(spec_data())
    seed = seed_config(spec.profiles["main"], seed_additions(spec, "main", 18789))
    assert seed["gateway"]["controlUi"]["allowedOrigins"] == [
        "https://main.example.org:26443",
        "http://127.0.0.1:18789",
        "http://localhost:18789",
    ]
    assert seed["gateway"]["trustedProxies"] == ["127.0.0.1", "::1"]
    assert seed["gateway"]["auth"] == {"mode": "token"}
    assert seed_additions(spec, "quiet", 20789) == {}
    on_443 = Spec.model_validate(spec_data(port=443))
    origins = seed_additions(on_443, "main", 18789)["gateway"]["controlUi"]["allowedOrigins"]
    assert origins[0] == "https://main.example.org"


def test_the_users_origins_and_proxies_are_kept() -> None:
    data = spec_data()
    data["profiles"]["main"]["openclaw"] = {
        "gateway": {
            "controlUi": {"allowedOrigins": ["https://mine.example"], "basePath": "/x"},
            "trustedProxies": ["10.0.0.1"],
        }
    }
    spec = Spec.model_validate(data)
    seed = seed_config(spec.profiles["main"], seed_additions(spec, "main", 18789))
    assert seed["gateway"]["controlUi"] == {
        "allowedOrigins": [
            "https://mine.example",
            "https://main.example.org:26443",
            "http://127.0.0.1:18789",
            "http://localhost:18789",
        ],
        "basePath": "/x",
    }
    assert seed["gateway"]["trustedProxies"] == ["10.0.0.1", "127.0.0.1", "::1"]


@pytest.mark.parametrize(
    ("network", "servers"),
    [
        ("bridge", ["127.0.0.1:18790", "127.0.0.1:19790"]),  # B+1, relayed to loopback B
        ("host", ["127.0.0.1:18789", "127.0.0.1:19789"]),
    ],
)
def test_haproxy_sends_each_name_to_its_gateway_only(network: str, servers: list[str]) -> None:
    spec = Spec.model_validate(spec_data() | {"network": network})
    config = haproxy_config(spec, compose_layout(spec, plan_ports(spec).footprints))
    assert [line.split()[-1] for line in config.splitlines() if "    server " in line] == servers
    assert "bind 0.0.0.0:26443 ssl crt /etc/openclaw-compose/front/server.crt" in config
    assert "use_backend gateway-main if { var(txn.host) -m str main.example.org }" in config
    assert "http-request return status 421" in config
    assert "http-request del-header x-forwarded-for" in config


def test_the_fronts_way_in_is_published_on_loopback_only() -> None:
    """Whatever reaches B+1 is a local client to the gateway: never on publish_address."""
    spec = Spec.model_validate(spec_data() | {"publish_address": "0.0.0.0"})
    main = plan_ports(spec).footprints[0]
    assert published_ports(spec, main) == [
        "0.0.0.0:18789:18789",
        "0.0.0.0:18791:18791",
        "0.0.0.0:18800-18899:18800-18899",
        "127.0.0.1:18790:18790",
    ]
    assert (18790, 18790) in main.host_ports("bridge")  # the preflight checks it
    unserved = Spec.model_validate(spec_data() | {"front": None})
    assert all(not fp.loopback_published() for fp in plan_ports(unserved).footprints)


def test_generate_writes_the_front_and_keeps_its_ca(tmp_path: Path) -> None:
    out = tmp_path / "out"
    data = spec_data()
    checked = check_spec(write_spec(tmp_path, data), HostFacts())
    generate(checked, out)
    for name in (CA_KEY, SERVER_KEY):
        assert (out / name).stat().st_mode & 0o777 == 0o600, name
    assert (out / CA_CERT).stat().st_mode & 0o777 == 0o644
    compose = (out / "compose.yaml").read_text()
    assert "ca.key" not in compose  # the CA's key is never mounted
    assert "OPENCLAW_FRONT_DIGEST=" in (out / ".env").read_text()
    tokens = [line.split("=", 1)[1] for line in (out / ".env").read_text().splitlines()[1:3]]
    for path in (out / "front").iterdir():
        assert not any(token in path.read_text() for token in tokens), path
    first = {name: (out / name).read_bytes() for name in (CA_KEY, CA_CERT, SERVER_CERT)}
    generate(checked, out)  # nothing changes
    assert first == {name: (out / name).read_bytes() for name in first}
    data["profiles"]["quiet"]["hostname"] = "quiet.example.org"
    generate(check_spec(write_spec(tmp_path, data), HostFacts()), out)
    assert (out / CA_KEY).read_bytes() == first[CA_KEY]
    assert (out / CA_CERT).read_bytes() == first[CA_CERT]
    server = x509.load_pem_x509_certificate((out / SERVER_CERT).read_bytes())
    assert sorted(dns_names(server)) == [
        "main.example.org",
        "quiet.example.org",
        "rescue.example.org",
    ]
    ca = x509.load_pem_x509_certificate(first[CA_CERT])
    server.verify_directly_issued_by(ca)
    del data["front"]
    generate(check_spec(write_spec(tmp_path, data), HostFacts()), out)
    assert not (out / "front").exists() or not any((out / "front").iterdir())
    assert (out / CA_KEY).read_bytes() == first[CA_KEY]  # kept: users trust its CA


def test_checks_of_the_front(tmp_path: Path) -> None:
    assert codes(spec_data(), tmp_path) == {CheckCode.FRONT_LOCAL_CA: "warning"}
    shared = spec_data()
    shared["profiles"]["quiet"]["hostname"] = "main.example.org"
    assert codes(shared, tmp_path)[CheckCode.FRONT_HOSTNAME_SHARED] == "error"
    assert codes(spec_data(port=18800), tmp_path)[CheckCode.FRONT_PORT] == "error"
    assert codes(spec_data(tls="none"), tmp_path)[CheckCode.FRONT_PLAINTEXT] == "error"
    assert CheckCode.FRONT_PLAINTEXT not in codes(
        spec_data(tls="none", address="127.0.0.1"), tmp_path
    )
    open_gateway = spec_data()
    open_gateway["profiles"]["main"]["openclaw"] = {"gateway": {"auth": {"mode": "none"}}}
    assert codes(open_gateway, tmp_path)[CheckCode.FRONT_AUTH] == "error"
    no_front = spec_data()
    del no_front["front"]
    assert codes(no_front, tmp_path) == {CheckCode.FRONT_UNUSED: "warning"}


def _certificate(
    directory: Path, names: list[str], days: int, *, other_key: bool = False
) -> dict[str, str]:
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])])
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now - datetime.timedelta(days=2 * abs(days)))
        .not_valid_after(now + datetime.timedelta(days=days))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in names]), False)
        .sign(key, hashes.SHA256())
    )
    written = ec.generate_private_key(ec.SECP256R1()) if other_key else key
    (directory / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (directory / "key.pem").write_bytes(
        written.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return {"cert": "cert.pem", "key": "key.pem"}


def _certificate_problems(tmp_path: Path, tls: dict[str, str]) -> list[tuple[str, str]]:
    checked = check_spec(write_spec(tmp_path, spec_data(tls=tls)), HostFacts())
    return [
        (p.severity, p.message)
        for p in checked.report.problems
        if p.code == CheckCode.FRONT_CERTIFICATE
    ]


def test_a_users_certificate_is_checked(tmp_path: Path) -> None:
    good = _certificate(tmp_path, ["*.example.org"], 200)
    assert [s for s, _ in _certificate_problems(tmp_path, good)] == ["warning"]  # self-signed
    _certificate(tmp_path, ["main.example.org"], 200)
    found = _certificate_problems(tmp_path, good)
    assert any(s == "error" and "does not name rescue.example.org" in m for s, m in found)
    _certificate(tmp_path, ["*.example.org"], -1)
    assert any("expired" in m for _, m in _certificate_problems(tmp_path, good))
    _certificate(tmp_path, ["*.example.org"], 200, other_key=True)
    assert any("is not the key of" in m for _, m in _certificate_problems(tmp_path, good))
    missing = {"cert": "nothing.pem", "key": "key.pem"}
    assert any("not a readable" in m for _, m in _certificate_problems(tmp_path, missing))


def test_a_users_certificate_is_mounted_not_copied(tmp_path: Path) -> None:
    tls = _certificate(tmp_path, ["*.example.org"], 200)
    out = tmp_path / "out"
    generate(check_spec(write_spec(tmp_path, spec_data(tls=tls)), HostFacts()), out)
    compose = (out / "compose.yaml").read_text()
    assert f"{tmp_path}/cert.pem:/run/openclaw-compose/tls/server.crt:ro" in compose
    assert not (out / CA_KEY).exists()
    assert not (out / SERVER_KEY).exists()


def test_dashboard_and_tunnel(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_spec(tmp_path, spec_data())
    out = tmp_path / "out"
    generate(check_spec(path, HostFacts()), out)
    engine = FakeEngine()  # dashboard gives a URL of a running gateway only
    engine.containers.containers["fronttest"] = {
        name: ContainerState(f"fronttest-{name}-1", name, "running", "healthy", 0, 1)
        for name in ("main", "rescue", "quiet")
    }
    monkeypatch.setattr(common, "connect", lambda: engine)
    served = run_cli("dashboard", "main", "-f", path, "-o", out, "--json")
    assert served.exit_code == 0, served.output
    assert json.loads(served.stdout)["url"].startswith("https://main.example.org:26443/#token=")
    direct = run_cli("dashboard", "quiet", "-f", path, "-o", out, "--json")
    assert json.loads(direct.stdout)["url"].startswith("http://127.0.0.1:20789/#token=")
    status = run_cli("status", "-f", path)  # where the front serves whom, after the table
    assert status.stdout.splitlines()[-2:] == [
        "front: https://main.example.org:26443 -> main",
        "front: https://rescue.example.org:26443 -> rescue",
    ]
    front = json.loads(run_cli("status", "-f", path, "--json").stdout)["front"]
    assert front == {
        "main": "https://main.example.org:26443",
        "rescue": "https://rescue.example.org:26443",
    }
    tunnel = run_cli("tunnel", "rescue", "-f", path, "--host", "me@server")
    assert tunnel.exit_code == 0, tunnel.output
    assert tunnel.stdout == "ssh -N -L 19789:127.0.0.1:19789 me@server\n"
    placeholder = run_cli("tunnel", "main", "-f", path, "--local-port", "8000", "--json")
    assert json.loads(placeholder.stdout) == {
        "profile": "main",
        "command": "ssh -N -L 8000:127.0.0.1:18789 USER@SERVER",
        "url": "http://127.0.0.1:8000/",
    }


def test_the_fronts_port_must_be_free_unless_it_is_ours() -> None:
    with socket.socket() as holder:
        holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        spec = Spec.model_validate(spec_data(address="127.0.0.1", port=port))
        taken = front_port_taken(spec, running=())
        assert [(p.code, p.ports) for p in taken] == [(CheckCode.PORT_IN_USE, (port,))]
        assert front_port_taken(spec, running=("front",)) == []
        swarm = front_port_taken(spec, running=(), swarm=True)  # every address of the manager
        assert [(p.code, p.ports) for p in swarm] == [(CheckCode.PORT_IN_USE, (port,))]
    elsewhere = Spec.model_validate(spec_data(address="192.0.2.1"))
    assert [p.code for p in front_port_taken(elsewhere, running=())] == [
        CheckCode.FRONT_ADDRESS_UNAVAILABLE
    ]
    with socket.socket() as probe:
        probe.bind(("0.0.0.0", 0))
        free = probe.getsockname()[1]  # an ephemeral port: outside every test's port window
    unheld = Spec.model_validate(spec_data(address="192.0.2.1", port=free))
    assert front_port_taken(unheld, running=(), swarm=True) == []  # swarm cannot honour it


def test_on_swarm_the_front_is_a_service_on_the_manager_reaching_b_plus_1(tmp_path: Path) -> None:
    """Published in mode host on the manager, on each served profile's own network, reaching
    each gateway by its service name on B+1 (not published) through Docker's DNS; its
    certificate and key a swarm secret that deploy creates, never in the stack file."""
    out = tmp_path / "out"
    generate(check_spec(write_spec(tmp_path, spec_data()), HostFacts(), "swarm"), out)
    stack = YAML(typ="safe").load((out / "stack.yaml").read_text())
    front = stack["services"]["front"]
    assert front["ports"] == [{"target": 8443, "published": 26443, "mode": "host"}]
    assert front["networks"] == ["main-net", "rescue-net"]  # not quiet's: it is not served
    assert front["deploy"]["placement"]["constraints"] == ["node.role == manager"]
    assert front["cap_drop"] == ["ALL"]
    assert front["read_only"] is True
    assert stack["secrets"]["front-tls"] == {"name": "fronttest_front-tls", "external": True}
    for profile, relay in (("main", "18790:18789"), ("rescue", "19790:19789")):
        environment = stack["services"][profile]["environment"]
        assert environment["OPENCLAW_COMPOSE_FRONT_RELAY"] == relay
        assert all(
            port["published"] != int(relay[:5]) for port in stack["services"][profile]["ports"]
        )
    assert "OPENCLAW_COMPOSE_FRONT_RELAY" not in stack["services"]["quiet"]["environment"]
    config = (out / "front/haproxy.cfg").read_text()
    assert "    server main tasks.main:18790 resolvers names" in config
    assert "nameserver dns 127.0.0.11:53" in config
    assert "bind :8443 ssl crt /run/secrets/front-tls.pem" in config
    assert "user haproxy" not in config  # runs as the image's user, nothing to drop
    assert "PRIVATE KEY" not in (out / "stack.yaml").read_text()


def test_swarm_checks_of_the_front(tmp_path: Path) -> None:
    def swarm_codes(data: dict[str, Any]) -> dict[CheckCode, str]:
        checked = check_spec(write_spec(tmp_path, data), HostFacts(), "swarm")
        return {p.code: p.severity for p in checked.report.problems}

    assert CheckCode.SWARM_FRONT not in swarm_codes(spec_data())  # 0.0.0.0: what swarm does
    assert swarm_codes(spec_data(address="127.0.0.1"))[CheckCode.SWARM_FRONT] == "warning"
    # Every address of the manager: TLS is not optional there.
    assert swarm_codes(spec_data(address="127.0.0.1", tls="none"))[CheckCode.SWARM_FRONT] == (
        "error"
    )


class _Front(BaseHTTPRequestHandler):
    """A front that answers ``/healthz`` with 503 for the first ``busy`` requests of each name
    (HAProxy before it has found the gateways), then 200."""

    busy = 2
    seen: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        host = self.headers["Host"]
        self.seen.append(host)
        answered = self.busy < self.seen.count(host) and self.path == "/healthz"
        self.send_response(200 if answered else 503)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        del args


@dataclass
class _FrontHere:
    """The one hook ``wait_front`` asks of a runtime."""

    address: str

    def front_address(self, spec: Spec) -> str | None:
        del spec
        return self.address


@pytest.mark.parametrize("busy", [2, 10_000])
def test_up_waits_until_the_front_serves_each_started_profile(busy: int) -> None:
    """``up`` returns once the front serves each started profile (here ``main`` and ``rescue``,
    not ``quiet``, which it does not serve) under its name; a front that never does ends it
    with exit 5."""
    server = HTTPServer(("127.0.0.1", 0), _Front)
    _Front.busy, _Front.seen = busy, []
    threading.Thread(target=server.serve_forever, daemon=True).start()
    spec = validate(spec_data(address="127.0.0.1", port=server.server_port, tls="none"), source="t")
    lines: list[str] = []
    runtime = cast(Runtime, _FrontHere("127.0.0.1"))
    try:
        if busy > 2:
            with pytest.raises(NotReadyError) as refused:
                wait_front(spec, runtime, ["main", "rescue"], timeout=2, progress=lines.append)
            assert refused.value.exit_code == ExitCode.NOT_READY
            assert "the front does not serve http://main.example.org:" in str(refused.value)
            return
        wait_front(spec, runtime, ["main", "rescue", "quiet"], timeout=30, progress=lines.append)
    finally:
        server.shutdown()
        server.server_close()
    port = server.server_port
    assert set(_Front.seen) == {f"main.example.org:{port}", f"rescue.example.org:{port}"}
    assert lines[0].startswith("waiting up to 30 s for the front to serve http://main.example")
    assert lines[-1].startswith("the front serves them")
