"""What carrying a gateway's ports to the host costs, per design, side by side in one run.

For N = 1, 2, 4 gateways and each design, measures: time from start to every ``/startupz`` 200;
memory (RSS) of the gateways and of every process that exists only to carry ports
(``docker-proxy``, the in-container ``haproxy`` relay); the count of those processes; and the
time of ``down``. The floor is the same gateways started natively on the host (the node and
openclaw of the tested version that ``images/build.sh`` installed, same ports, no container).
A native gateway that exits while starting ends the run at once, with its output.

Designs: ``native``; ``host`` (``network: host``); ``bridge`` (``network: bridge``, the default:
a network per profile, Docker publishes base, base+2 and the CDP range, the image's relay
carries them to loopback); ``bridge-none`` (the same with ``egress: none``: a port carrier per
gateway publishes them). The daemon's userland-proxy setting decides what the bridge designs
cost: it is printed with the results.

    python -m benchmarks.bench_ports [--sizes 1 2 4] [--designs native host bridge bridge-none]
                                     [--repeat 3] [--first-base 10000]
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from openclaw_compose.core.checks import HostFacts
from openclaw_compose.core.loading import LoadedSpec, validate
from openclaw_compose.core.sidecars import CARRIER_SUFFIX
from openclaw_compose.engine import DockerEngine, Engine
from openclaw_compose.host.images import native_openclaw
from openclaw_compose.host.probes import probe
from openclaw_compose.project import check_loaded, generate
from openclaw_compose.runtime.doctor import userland_proxy

CARRIERS = {"docker-proxy", "haproxy"}
FIRST_BASE = 10000
"""The first gateway's base port by default (below the range openclaw_compose.testing picks
free ports from); the others are 1000 apart."""
TIMEOUT = 600.0


@dataclass
class Result:
    design: str
    gateways: int
    up_seconds: float
    gateway_mib: float
    carrier_mib: float
    carrier_processes: int
    down_seconds: float


def _processes() -> dict[int, tuple[int, str, float]]:
    """pid -> (parent pid, command name, RSS MiB) for every process on the host."""
    table = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            status = Path(f"/proc/{entry}/status").read_text()
        except OSError:
            continue
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        parent = int(stat[stat.rindex(")") + 2 :].split()[1])
        rss_kib = next(
            (int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:")),
            0,
        )
        table[int(entry)] = (parent, name, rss_kib / 1024)
    return table


def _tree_mib(roots: list[int], table: dict[int, tuple[int, str, float]]) -> float:
    children: dict[int, list[int]] = defaultdict(list)
    for pid, (parent, _, _) in table.items():
        children[parent].append(pid)
    total, stack = 0.0, list(roots)
    while stack:
        pid = stack.pop()
        if pid in table and table[pid][1] not in CARRIERS:
            total += table[pid][2]
        stack.extend(children[pid])
    return total


def _carriers(table: dict[int, tuple[int, str, float]]) -> tuple[int, float]:
    found = [rss for _, name, rss in table.values() if name in CARRIERS]
    return len(found), sum(found)


def _wait_started(urls: list[str], natives: Sequence[Native] = ()) -> None:
    start = time.monotonic()
    pending = set(urls)
    while pending:
        pending = {url for url in pending if probe(url, "startupz", timeout=1) != 200}
        for native in natives:
            native.raise_if_exited()
        if time.monotonic() - start > TIMEOUT:
            raise RuntimeError(f"not started after {TIMEOUT} s: {sorted(pending)}")
        time.sleep(0.25)


def _bases(count: int, first: int) -> list[int]:
    return [first + 1000 * i for i in range(count)]


@dataclass
class Native:
    """One native gateway of the benchmark: its process and the file its output goes to."""

    process: subprocess.Popen[bytes]
    log: Path

    def raise_if_exited(self) -> None:
        code = self.process.poll()
        if code is not None:
            tail = "\n".join(self.log.read_text(errors="replace").splitlines()[-20:])
            raise RuntimeError(f"a native gateway exited with {code} while starting:\n{tail}")


@contextmanager
def _native(count: int, first: int) -> Iterator[list[Native]]:
    openclaw = native_openclaw()
    with tempfile.TemporaryDirectory(prefix="bench-native-") as tmp:
        natives = []
        for base in _bases(count, first):
            home = Path(tmp) / str(base)
            config = home / "config" / "openclaw.json"
            config.parent.mkdir(parents=True)
            config.write_text(
                json.dumps({"gateway": {"port": base, "mode": "local", "auth": {"mode": "token"}}})
            )
            env = {
                **os.environ,
                "HOME": str(home),
                "OPENCLAW_STATE_DIR": str(home / "state"),
                "OPENCLAW_CONFIG_PATH": str(config),
                "OPENCLAW_WORKSPACE_DIR": str(home / "workspace"),
                "OPENCLAW_GATEWAY_TOKEN": secrets.token_hex(32),
                "OPENCLAW_EAGER_BROWSER_CONTROL_SERVER": "1",  # the same work as in containers
                "PATH": f"{openclaw.node.parent}:{os.environ['PATH']}",
            }
            log = home / "gateway.log"
            with log.open("wb") as output:  # the child keeps its own copy
                process = subprocess.Popen(
                    openclaw.command("gateway", "--port", str(base), "--bind", "loopback"),
                    env=env,
                    stdout=output,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            natives.append(Native(process, log))
        try:
            yield natives
        finally:
            for native in natives:
                if native.process.poll() is None:
                    os.killpg(native.process.pid, signal.SIGKILL)
                    native.process.wait()


def measure_native(count: int, first: int) -> Result:
    start = time.monotonic()
    with _native(count, first) as natives:
        _wait_started([f"http://127.0.0.1:{b}" for b in _bases(count, first)], natives)
        pids = [native.process.pid for native in natives]
        up = time.monotonic() - start
        time.sleep(3)
        table = _processes()
        gateway_mib = _tree_mib(pids, table)
        down_start = time.monotonic()
        for pid in pids:
            os.killpg(pid, signal.SIGTERM)
        for pid in pids:
            _wait_gone(pid)
        down = time.monotonic() - down_start
    return Result("native", count, up, gateway_mib, 0.0, 0, down)


def _wait_gone(pid: int) -> None:
    while True:
        try:
            finished, _ = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            return
        if finished:
            return
        time.sleep(0.05)


def measure_compose(design: str, count: int, engine: Engine, first: int) -> Result:
    project = f"bench-{design}-{secrets.token_hex(3)}"
    data = {
        "project": project,
        "network": design.removesuffix("-none"),
        "profiles": {
            f"g{i}": {"port": base, "egress": "none" if design.endswith("-none") else "all"}
            for i, base in enumerate(_bases(count, first))
        },
    }
    loaded = LoadedSpec(validate(data, source="<bench>"), "<bench>", Path())
    checked = check_loaded(loaded, HostFacts())
    with tempfile.TemporaryDirectory(prefix=f"{project}-") as tmp:
        directory = Path(tmp)
        generate(checked, directory)
        baseline_carriers, baseline_mib = _carriers(_processes())
        start = time.monotonic()
        try:
            engine.compose.run(directory, "up", "--detach")
            _wait_started([f"http://127.0.0.1:{base}" for base in _bases(count, first)])
            up = time.monotonic() - start
            time.sleep(3)
            table = _processes()
            containers = engine.containers.project_containers(project)
            pids = [c.pid for name, c in containers.items() if not name.endswith(CARRIER_SUFFIX)]
            gateway_mib = _tree_mib(pids, table)
            carriers, carrier_mib = _carriers(table)
        finally:
            down_start = time.monotonic()
            engine.compose.run(directory, "down", "--volumes")
            down = time.monotonic() - down_start
    return Result(
        design,
        count,
        up,
        gateway_mib,
        carrier_mib - baseline_mib,
        carriers - baseline_carriers,
        down,
    )


def _median(results: list[Result]) -> Result:
    """The run with the median up time (its memory and down time come with it)."""
    return sorted(results, key=lambda r: r.up_seconds)[len(results) // 2]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--designs", nargs="+", default=["native", "host", "bridge"])
    parser.add_argument("--repeat", type=int, default=3, help="runs per design and size")
    parser.add_argument(
        "--first-base", type=int, default=FIRST_BASE, help="the first gateway's base port"
    )
    args = parser.parse_args()
    engine = DockerEngine()
    if "native" in args.designs:  # warms Node's compile cache, as any gateway's second start
        measure_native(1, args.first_base)
    runs: dict[tuple[str, int], list[Result]] = defaultdict(list)
    for count in args.sizes:
        for _ in range(args.repeat):  # designs interleaved, so that noise hits them alike
            for design in args.designs:
                result = (
                    measure_native(count, args.first_base)
                    if design == "native"
                    else measure_compose(design, count, engine, args.first_base)
                )
                runs[(design, count)].append(result)
                print(f"  {design} x{count}: up {result.up_seconds:.1f} s", file=sys.stderr)
    results = [_median(group) for group in runs.values()]
    floor = {r.gateways: r.up_seconds for r in results if r.design == "native"}
    print(
        f"daemon userland-proxy: {userland_proxy()}; {os.cpu_count()} CPUs; median of {args.repeat}"
    )
    print()
    print(
        "| design | N | up to /startupz (s) | vs native | gateways (MiB) "
        "| port carriers (MiB) | carriers per gateway | down (s) |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for r in results:
        ratio = f"{r.up_seconds / floor[r.gateways]:.2f}x" if r.gateways in floor else "-"
        print(
            f"| {r.design} | {r.gateways} | {r.up_seconds:.1f} | {ratio} | {r.gateway_mib:.0f} "
            f"| {r.carrier_mib:.1f} | {r.carrier_processes / r.gateways:.1f} "
            f"| {r.down_seconds:.1f} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
