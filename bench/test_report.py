"""bench/report.py's paired ratios: each ratio from one round's own figures, the median of the rounds
with their min-max, and the goals judged on that median (run by make test-python)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import report  # noqa: E402


def write_round(folder: Path, number: int, rows: list[dict[str, object]]) -> None:
    path = folder / f"round-{number}"
    path.mkdir()
    by_impl: dict[str, list[str]] = {}
    for row in rows:
        by_impl.setdefault(str(row["impl"]), []).append(json.dumps(row))
    for impl, lines in by_impl.items():
        (path / f"{impl}.jsonl").write_text("\n".join(lines) + "\n")


def timed(impl: str, op: str, median: float) -> dict[str, object]:
    return {"impl": impl, "op": op, "unit": "ns", "median": median, "min": median, "max": median, "samples": 21, "k": 1}


def rate(impl: str, op: str, threads: int, value: float) -> dict[str, object]:
    return {"impl": impl, "op": op, "unit": "req/s", "threads": threads, "value": value}


def test_ratios_are_paired_within_rounds_and_summarised_by_their_median(tmp_path: Path) -> None:
    # the machine drifts: round 2 is twice as slow for both, round 3 slows python alone
    for number, (rust, python) in enumerate([(100.0, 110.0), (200.0, 220.0), (100.0, 130.0)], 1):
        write_round(tmp_path, number, [
            timed("rust", "per_request_cached", rust), timed("python", "per_request_cached", python),
            rate("python", "throughput_cached", 1, 1000.0), rate("python", "throughput_cached", 2, 1900.0 - number * 100),
        ])
    times, rates, servers, rounds = report.load(tmp_path)
    assert len(rounds) == 3
    paired = report.per_round(rounds, report.over(("python", "per_request_cached"), ("rust", "per_request_cached")))
    assert paired.values == [1.1, 1.1, 1.3]
    assert paired.median == 1.1
    assert paired.cell() == "×1.10 (1.10–1.30)"
    # best-round figures taken minutes apart would say 110 / 100 = 1.10 here too, but 1.30 / 1.00
    # for the 2-thread scaling where the paired median is 1.70
    host = {"cpu": "test", "cores": 2, "memory_gib": 1, "kernel": "x", "load_average": (0.0, 0.0, 0.0),
            "rustc": "", "python": "", "node": "", "go": "", "cc": ""}
    markdown, result = report.build(times, rates, host, servers, rounds)
    goals = {g["goal"]: g for g in result["goals"]}
    cached = goals["python per_request_cached / Rust core"]
    assert cached["value"] == 1.1 and cached["met"] is True
    assert cached["rounds_min_max_n"] == (1.1, 1.3, 3)
    scaling = goals["Python throughput_cached: 2 threads / 1 thread"]
    assert abs(scaling["value"] - 1.7) < 1e-9 and scaling["met"] is False
    assert "## Paired ratios" in markdown


def test_a_ratio_missing_in_some_rounds_uses_the_rounds_that_have_both(tmp_path: Path) -> None:
    write_round(tmp_path, 1, [timed("rust", "mint", 100.0), timed("go", "mint", 120.0)])
    write_round(tmp_path, 2, [timed("rust", "mint", 100.0)])
    _, _, _, rounds = report.load(tmp_path)
    paired = report.per_round(rounds, report.over(("go", "mint"), ("rust", "mint")))
    assert paired.values == [1.2] and paired.cell() == "×1.20"
    assert report.per_round(rounds, report.over(("c", "mint"), ("rust", "mint"))).cell() == "–"


def server(impl: str, op: str, value: float) -> dict[str, object]:
    return {"impl": impl, "op": report.HTTP_SERVER_PREFIX + op, "unit": "us", "value": value, "connections": 8}


def test_the_http_servers_goal_pairs_each_round_with_that_rounds_core(tmp_path: Path) -> None:
    # the server bench runs in rounds 1 and 2 only (BENCH_HTTP_ROUNDS); round 2's machine is slower
    # for both the core and the server, round 3 (no server) fastest for the core alone
    figures = [(50_000.0, (60.0, 80.0, 140.0, 70.0)), (100_000.0, (120.0, 150.0, 300.0, 175.0)), (40_000.0, None)]
    for number, (core, cpu) in enumerate(figures, 1):
        rows = [timed("rust", "per_request_cached", core)]
        if cpu is not None:
            plain, paced, protected, _ = cpu
            rows += [server("http-nethttp", "plain_cpu_us", plain), server("http-nethttp", "protected_cpu_us", protected),
                     server("http-nethttp", "added_cpu_us", protected - plain),
                     server("http-nethttp", "plain_paced_cpu_us", paced),
                     server("http-nethttp", "added_paced_cpu_us", protected - paced)]
        write_round(tmp_path, number, rows)
    times, rates, servers, rounds = report.load(tmp_path)
    # the table's figures come from the least disturbed round (round 1: plain + protected 200)
    assert servers["http-nethttp"][report.HTTP_SERVER_PREFIX + "added_paced_cpu_us"]["value"] == 60.0
    host = {"cpu": "test", "cores": 2, "memory_gib": 1, "kernel": "x", "load_average": (0.0, 0.0, 0.0),
            "rustc": "", "python": "", "node": "", "go": "", "cc": ""}
    markdown, result = report.build(times, rates, host, servers, rounds)
    goal = next(g for g in result["goals"] if g["goal"].startswith("http-nethttp:"))
    # round 1: 60 / 50 − 1 = 0.2; round 2: 150 / 100 − 1 = 0.5; never 60 / 40 (round 3's core)
    assert abs(goal["value"] - 0.35) < 1e-9 and goal["met"] is False
    assert goal["rounds_min_max_n"] is not None
    low, high, n = goal["rounds_min_max_n"]
    assert (round(low, 9), round(high, 9), n) == (0.2, 0.5, 2)
    row = next(line for line in markdown.splitlines() if line.startswith("| http-nethttp |"))
    assert row.endswith("| ×1.35 (1.20–1.50) |")
    # protected − plain over the core, paired the same way: 80 / 50 and 180 / 100
    assert "| ×1.70 (1.60–1.80) |" in row
