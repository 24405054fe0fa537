"""Benchmark the core flow (load -> plan -> check -> render -> write), in process and via the CLI.

Run with ``python -m benchmarks.bench_core`` (or ``python benchmarks/bench_core.py``) from the
project root, using the project's virtualenv. Targets are reported, not asserted: the exit code
is non-zero only when a case failed to run (an exception, or a CLI exit code other than the one
expected).

Cases: 10, 100 and 500 valid profiles (base ports 120 apart) are checked and generated; 5,000
heavily overlapping profiles are only checked (that must fail with errors, exit code 1); and
``openclaw-compose --help`` measures start-up. ``--quick`` runs every case once and uses 1,000
overlapping profiles instead of 5,000.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from openclaw_compose.core.checks import HostFacts
from openclaw_compose.host.system import host_facts
from openclaw_compose.project import check_spec, generate

VALID_SIZES = (10, 100, 500)
OVERLAPPING = 5_000
QUICK_OVERLAPPING = 1_000
SPACING = 120
FIRST_BASE = 1_100
OVERLAP_BASE = 20_000
OVERLAP_STEP = 7
OVERLAP_WRAP = 30_000
CLI = Path(sys.executable).parent / "openclaw-compose"


@dataclass
class Timing:
    runs: list[float] = field(default_factory=list)

    @property
    def best(self) -> float:
        return min(self.runs)

    @property
    def median(self) -> float:
        return statistics.median(self.runs)

    def cell(self) -> str:
        if not self.runs:
            return "-"
        return f"{self.best:.3f} / {self.median:.3f}"


@dataclass
class Case:
    name: str
    target: str = ""
    in_process: Timing = field(default_factory=Timing)
    process: Timing = field(default_factory=Timing)


class BenchFailure(Exception):
    """A case did not run as expected (wrong exit code, missing errors, an exception)."""


def write_spec(path: Path, bases: Sequence[int]) -> Path:
    lines = ["project: bench", "profiles:"]
    for i, base in enumerate(bases):
        lines += [f"  p{i:04d}:", f"    port: {base}"]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def valid_bases(count: int) -> list[int]:
    bases = [FIRST_BASE + i * SPACING for i in range(count)]
    assert bases[-1] + 110 <= 65535, "valid profiles must stay in the port range"
    return bases


def overlapping_bases(count: int) -> list[int]:
    return [OVERLAP_BASE + (i * OVERLAP_STEP) % OVERLAP_WRAP for i in range(count)]


def timed(repeat: int, run: Callable[[int], None], *, warmup: bool = False) -> Timing:
    """Time ``repeat`` runs; with ``warmup``, one extra untimed run first."""
    timing = Timing()
    if warmup:
        run(-1)
    for i in range(repeat):
        start = time.perf_counter()
        run(i)
        timing.runs.append(time.perf_counter() - start)
    return timing


def run_cli(args: Sequence[str], expected: int) -> None:
    result = subprocess.run(
        [str(CLI), *args], capture_output=True, text=True, check=False, stdin=subprocess.DEVNULL
    )
    if result.returncode != expected:
        tail = (result.stderr or result.stdout).strip().splitlines()[-5:]
        raise BenchFailure(
            f"openclaw-compose {' '.join(args)}: exit {result.returncode}, expected {expected}: "
            + " | ".join(tail)
        )


def check_and_generate(spec: Path, out_dir: Path, host: HostFacts) -> None:
    checked = check_spec(spec, host)
    if not checked.report.ok:
        raise BenchFailure(f"{spec.name}: expected no errors, got {checked.report.errors}")
    generate(checked, out_dir)


def check_overlapping(spec: Path, host: HostFacts) -> None:
    report = check_spec(spec, host).report
    if report.ok:
        raise BenchFailure(f"{spec.name}: overlapping profiles passed the checks")


def bench(work: Path, repeat: int, overlapping: int) -> list[Case]:
    host = host_facts()
    outputs = iter(range(1_000_000))

    def fresh_out() -> Path:
        return work / "out" / str(next(outputs))

    specs = {n: write_spec(work / f"valid-{n}.yaml", valid_bases(n)) for n in VALID_SIZES}
    overlap_spec = write_spec(work / f"overlap-{overlapping}.yaml", overlapping_bases(overlapping))

    # In-process cases get one untimed warm-up run each, so that first-call costs (validator
    # builds, cold caches) are not charged to the timed runs. Process runs are all timed: each
    # is a cold start by design.
    cases: list[Case] = []
    for n in VALID_SIZES:
        spec = specs[n]

        def in_process(_run: int, spec: Path = spec) -> None:
            check_and_generate(spec, fresh_out(), host)

        def cli_generate(_run: int, spec: Path = spec) -> None:
            run_cli(["generate", "-f", str(spec), "-o", str(fresh_out())], 0)

        def cli_check(_run: int, spec: Path = spec) -> None:
            run_cli(["check", "-f", str(spec)], 0)

        target = "< 0.5 s in-process, < 2 s process" if n == max(VALID_SIZES) else ""
        case = Case(f"{n} profiles: check + generate", target)
        case.in_process = timed(repeat, in_process, warmup=True)
        case.process = timed(repeat, cli_generate)
        cases.append(case)
        check_case = Case(f"{n} profiles: `check` (CLI)")
        check_case.process = timed(repeat, cli_check)
        cases.append(check_case)

    case = Case(f"{overlapping:,} overlapping: check", "< 5 s process")
    case.in_process = timed(repeat, lambda _run: check_overlapping(overlap_spec, host), warmup=True)
    case.process = timed(repeat, lambda _run: run_cli(["check", "-f", str(overlap_spec)], 1))
    cases.append(case)

    case = Case("--help", "< 0.3 s process")
    case.process = timed(repeat, lambda _run: run_cli(["--help"], 0))
    cases.append(case)
    return cases


def table(cases: Sequence[Case]) -> str:
    rows = [
        "| case | in-process best / median (s) | process best / median (s) | target |",
        "|---|---|---|---|",
    ]
    rows += [
        f"| {c.name} | {c.in_process.cell()} | {c.process.cell()} | {c.target or '-'} |"
        for c in cases
    ]
    return "\n".join(rows)


def growth(cases: Sequence[Case]) -> str:
    by_size = {
        n: c
        for n in VALID_SIZES
        for c in cases
        if c.name == f"{n} profiles: check + generate" and c.in_process.runs
    }
    smallest, largest = min(by_size), max(by_size)
    inproc = {n: c.in_process.best / n for n, c in by_size.items()}
    ratios = ", ".join(
        f"{n}: {inproc[n] * 1e3:.3f} ms ({inproc[n] / inproc[smallest]:.2f}x of {smallest})"
        for n in sorted(inproc)
    )
    lines = [f"- in-process check+generate, best time per profile: {ratios}"]
    mid = sorted(inproc)[len(inproc) // 2]
    lines.append(
        f"- in-process per-profile growth {mid} -> {largest}: "
        f"{inproc[largest] / inproc[mid]:.2f}x (1.0 = linear; small cases carry fixed costs)"
    )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--repeat", type=int, default=5, help="runs per case (default 5)")
    parser.add_argument(
        "--quick", action="store_true", help="one run per case, 1,000 overlapping profiles"
    )
    args = parser.parse_args(argv)
    repeat = 1 if args.quick else args.repeat
    if repeat < 1:
        parser.error("--repeat must be at least 1")
    overlapping = QUICK_OVERLAPPING if args.quick else OVERLAPPING
    if not CLI.exists():
        print(f"error: console script not found: {CLI}", file=sys.stderr)
        return 2

    with tempfile.TemporaryDirectory(prefix="bench-core-") as tmp:
        try:
            cases = bench(Path(tmp), repeat, overlapping)
        except Exception as exc:  # report, then fail: something did not run as expected
            print(f"error: {type(exc).__name__}: {exc}", file=sys.stderr)
            return 1

    print(
        f"machine: {os.cpu_count()} CPUs, Python {platform.python_version()} "
        f"({platform.python_implementation()}), {platform.system()} {platform.machine()}; "
        f"{repeat} run(s) per case"
    )
    print()
    print(table(cases))
    print()
    print(growth(cases))
    return 0


if __name__ == "__main__":
    sys.exit(main())
