"""Merge the harnesses' JSON lines (target/bench/*.jsonl) into one report: bench/results.md (also
printed), bench/results.json and bench/results.svg. See bench/README.md.

    python bench/report.py [--in target/bench] [--out bench]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

IMPLS = ["rust", "c", "go", "python", "node-sync", "node-async", "trust-core-0.1"]
OPS = [
    "mint",
    "make_proof",
    "authenticate_uncached_2B",
    "authenticate_uncached_1KiB",
    "authenticate_uncached_1MiB",
    "authenticate_cached_2B",
    "authenticate_cached_1KiB",
    "authenticate_cached_1MiB",
    "check_policy",
    "per_request_uncached",
    "per_request_cached",
    "per_request_cached_redis",
    "redis_ping",
    "redis_admission",
    "per_request_cached_beside_redis",
    "per_request_cached_redis_cluster",
    "redis_cluster_ping",
    "http_rfc9421_cached",
    "http_legacy_cached",
    "sign_job",
    "verify_job",
    "signer_mint_in_process",
    "signer_mint_socket",
    "batch64_one_by_one",
    "batch64",
    "batch64_one_by_one_redis",
    "batch64_redis",
    "floor_verify_strict",
]
# host I/O while Redis is silent (the Node harness): fs.readFile per read, quiet / while 64
# authentications wait on a Redis that never answers; a section of their own, not in the op tables
HOST_IO = ("host_readfile_quiet", "host_readfile_redis_silent")
# the per-request path on a token with 0, 1 and 2 delegation links (the Rust harness), cached and
# uncached; a section of their own, not in the op tables
DELEGATION_LINKS = (0, 1, 2)
DELEGATION = tuple(f"delegated_{n}_{how}" for n in DELEGATION_LINKS for how in ("cached", "uncached"))
# what the slowest read under load may add to the slowest quiet one: a read held behind a Redis wait
# would add at least a connect or command timeout (seconds)
HOST_IO_GOAL_MS = 5.0
# the overhead goals against the Rust core, per binding
OVERHEAD_GOAL = {"python": 1.15, "node-sync": 1.20, "c": 1.05, "go": 1.05}
# the Node harness's Promise-form throughput: requests in flight at once (bench/node/bench.mjs)
NODE_INFLIGHT = 64
# the HTTP decision (RFC 9421 profile) against the per-request path, each implementation against itself
HTTP_GOAL = 1.15
HTTP_GOAL_IMPLS = ["rust", "c", "go", "python", "node-sync", "node-async"]


# the HTTP servers' bench (bench/http, impl http-<framework>): each server without the middleware
# (plain) and with it, requests per second and the server's CPU µs per request; a section of their
# own. Every figure of a server comes from one round: the one where plain + protected CPU per request
# was lowest (the least disturbed)
HTTP_SERVER_PREFIX = "http_server_"
HTTP_SERVER_IMPLS = ["http-starlette", "http-fastapi", "http-wsgi", "http-express4", "http-express5",
                     "http-fastify", "http-nethttp"]
# the middleware's added CPU per request over the core's own per_request_cached (Rust, same run):
# (added - core) / core
HTTP_SERVER_GOAL = 0.25
# impl -> op -> row, each from that impl's kept round
HttpServers = dict[str, dict[str, dict[str, Any]]]
# round (its folder's name) -> (impl, op) -> median ns, and (impl, op, threads) -> req/s: what the
# paired ratios are made of, each ratio from the figures of one round
Rounds = dict[str, dict[tuple[Any, ...], float]]


class Paired:
    """One ratio computed in every round that has both its figures, summarised as the median of the
    rounds' ratios with their min and max: this VM's drift moves both figures of a round together
    (the harnesses run one after the other within minutes), so the spread says which cells are noise."""

    def __init__(self, values: list[float]) -> None:
        self.values = sorted(values)

    @property
    def median(self) -> float | None:
        v, n = self.values, len(self.values)
        if n == 0:
            return None
        return v[n // 2] if n % 2 else (v[n // 2 - 1] + v[n // 2]) / 2

    def cell(self) -> str:
        m = self.median
        if m is None:
            return "–"
        if len(self.values) == 1:
            return f"×{m:.2f}"
        return f"×{m:.2f} ({self.values[0]:.2f}–{self.values[-1]:.2f})"


def per_round(rounds: Rounds, figure: Any) -> Paired:
    """figure(round's figures) in each round where it is defined (it returns None where a figure is
    missing or a divisor is 0)."""
    values = [figure(r) for r in rounds.values()]
    return Paired([v for v in values if v is not None])


def over(num: tuple[Any, ...], den: tuple[Any, ...]) -> Any:
    """The figure num / den of one round (keys as in Rounds)."""
    return lambda r: r[num] / r[den] if num in r and r.get(den) else None


def load(
    folder: Path,
) -> tuple[dict[tuple[str, str], dict[str, Any]], dict[tuple[str, str, int], dict[str, Any]], HttpServers, Rounds]:
    times: dict[tuple[str, str], dict[str, Any]] = {}
    rates: dict[tuple[str, str, int], dict[str, Any]] = {}
    rounds: Rounds = {}
    servers: dict[str, dict[Path, dict[str, dict[str, Any]]]] = {}  # impl -> file -> op -> row
    # make bench runs every harness BENCH_ROUNDS times (round-N/ folders): each figure keeps its
    # best round, the lowest median or the highest rate (a disturbed machine only ever slows a run)
    files = sorted(folder.rglob("*.jsonl"))
    if not files:
        sys.exit(f"no harness output in {folder}: run `make bench`")
    for path in files:
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as e:
                sys.exit(f"{path}:{number}: not JSON ({e})")
            # each round's own figures, for the paired ratios: a figure of this file, keyed as the
            # tables key it (timed rows by (impl, op), rates by (impl, op, threads))
            this_round = rounds.setdefault(path.parent.name, {})
            if row.get("unit") == "req/s" and "threads" in row:
                this_round[(row["impl"], row["op"], int(row["threads"]))] = float(row["value"])
            elif "median" in row:
                this_round[(row["impl"], row["op"])] = float(row["median"])
            if str(row.get("op", "")).startswith(HTTP_SERVER_PREFIX):
                servers.setdefault(row["impl"], {}).setdefault(path, {})[row["op"]] = row
                this_round[(row["impl"], row["op"])] = float(row["value"])  # the goal's paired figure
            elif row.get("unit") == "KiB":
                # a memory figure (the larger of the rounds): kept with the rates, as threads 0
                key = (row["impl"], row["op"], 0)
                if key not in rates or row["value"] > rates[key]["value"]:
                    rates[key] = row
            elif row.get("unit") == "req/s":
                key = (row["impl"], row["op"], int(row["threads"]))
                if key not in rates or row["value"] > rates[key]["value"]:
                    rates[key] = row
            elif "median" not in row:
                continue  # not a timed figure (the HTTP soak's rows, make soak-http, share the folder)
            else:
                # the host I/O rows are judged by their slowest read: keep the round where it was lowest
                figure = "max" if row["op"] in HOST_IO else "median"
                timed = (row["impl"], row["op"])
                if timed not in times or row[figure] < times[timed][figure]:
                    times[timed] = row
    return times, rates, keep_http_servers(servers), rounds


def keep_http_servers(servers: dict[str, dict[Path, dict[str, dict[str, Any]]]]) -> HttpServers:
    """Per server, every figure from the round with the lowest plain + protected CPU per request."""
    kept: HttpServers = {}
    for impl, files in servers.items():
        def disturbance(ops: dict[str, dict[str, Any]]) -> float:
            cpu = [ops.get(f"{HTTP_SERVER_PREFIX}{m}_cpu_us") for m in ("plain", "protected")]
            return sum(float(r["value"]) for r in cpu if r is not None) if all(cpu) else float("inf")
        kept[impl] = min(files.values(), key=disturbance)
    return kept


def command_version(argv: list[str]) -> str:
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=10)
        return (out.stdout or out.stderr).strip().splitlines()[0]
    except (OSError, subprocess.SubprocessError, IndexError):
        return "not found"


def machine() -> dict[str, Any]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        mem_kb = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1))  # type: ignore[union-attr]
    except (OSError, AttributeError):
        mem_kb = 0
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": round(mem_kb / 1024 / 1024, 1),
        "kernel": platform.release(),
        "load_average": os.getloadavg(),
        "rustc": command_version(["rustc", "--version"]),
        "python": command_version([os.environ.get("BENCH_PYTHON", "python3"), "--version"]),
        "node": command_version(["node", "--version"]),
        "go": command_version(["go", "version"]),
        "cc": command_version([os.environ.get("TC_CC", "gcc"), "--version"]),
    }


def us(ns: float) -> str:
    value = ns / 1000
    return f"{value:,.0f}" if value >= 100 else f"{value:.1f}"


def ratio(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None or b == 0 else a / b


def x(r: float | None) -> str:
    return "–" if r is None else f"×{r:.2f}"


def build(times: dict[tuple[str, str], dict[str, Any]], rates: dict[tuple[str, str, int], dict[str, Any]],
          host: dict[str, Any], servers: HttpServers | None = None, rounds: Rounds | None = None) -> tuple[str, dict[str, Any]]:
    rounds = rounds or {}

    def pr(num: tuple[Any, ...], den: tuple[Any, ...]) -> Paired:
        return per_round(rounds, over(num, den))

    impls = [i for i in IMPLS if any(k[0] == i for k in times)] + sorted(
        {k[0] for k in times} - set(IMPLS))
    ops = [o for o in OPS if any(k[1] == o for k in times)] + sorted(
        {k[1] for k in times} - set(OPS) - set(HOST_IO) - set(DELEGATION))

    def med(impl: str, op: str) -> float | None:
        row = times.get((impl, op))
        return None if row is None else float(row["median"])

    def rate(impl: str, op: str, threads: int) -> float | None:
        row = rates.get((impl, op, threads))
        return None if row is None else float(row["value"])

    lines = ["# trustcore benchmarks", ""]
    lines.append("Reproduce with `make bench` (bench/README.md: the fixture, the operations, the loop). "
                 f"Medians of 21 samples in µs, the best of {host.get('rounds', 1)} rounds of every harness; "
                 "batch rows are per request.")
    lines.append("")
    lines.append(f"Machine: {host['cpu']}, {host['cores']} cores, {host['memory_gib']} GiB, Linux {host['kernel']}, "
                 f"load average at the end {', '.join(f'{v:.2f}' for v in host['load_average'])}; "
                 f"{host['rustc']}; {host['python']}; Node {host['node']}; {host['go']}; {host['cc']}.")
    lines += ["", "## Medians (µs)", ""]
    lines.append("| op | " + " | ".join(impls) + " |")
    lines.append("|---|" + "---:|" * len(impls))
    for op in ops:
        cells = []
        for impl in impls:
            row = times.get((impl, op))
            cells.append("" if row is None else us(row["median"]))
        lines.append(f"| {op} | " + " | ".join(cells) + " |")

    lines += ["", "## Against the Rust core (binding median / Rust median) and against trust-core 0.1 "
              "(trust-core 0.1 median / this median: the speed-up)", ""]
    bindings = [i for i in impls if i not in ("rust", "trust-core-0.1")]

    def ratio_table(cell: Any, skip_empty: bool) -> None:
        """Per op: each binding / rust, then trust-core 0.1 / each impl; cell(num, den) with (impl, op) keys."""
        lines.append("| op | " + " | ".join(f"{b} / rust" for b in bindings)
                     + " | " + " | ".join(f"tc0.1 / {i}" for i in ["rust"] + bindings) + " |")
        lines.append("|---|" + "---:|" * (2 * len(bindings) + 1))
        for op in ops:
            if op.startswith("floor") or op == "signer_mint_in_process":
                continue
            tc_op = "per_request_uncached" if op == "per_request_cached" else op
            cells = [cell((b, op), ("rust", op)) for b in bindings]
            cells += [cell(("trust-core-0.1", tc_op), (i, op)) for i in ["rust"] + bindings]
            if not skip_empty or any(c != "–" for c in cells):
                lines.append(f"| {op} | " + " | ".join(cells) + " |")

    ratio_table(lambda num, den: x(ratio(med(*num), med(*den))), skip_empty=False)
    lines.append("")
    lines.append("(`per_request_cached` is compared with trust-core 0.1's per-request path: it has no cache.)")

    lines += ["", f"## Paired ratios: each round's own figures ({len(rounds)} rounds)", ""]
    lines.append("The same ratios computed in every round from that round's figures (the harnesses run one "
                 "after the other within minutes, so a round's drift moves both figures together), shown as "
                 "the median of the rounds' ratios with their min–max: a wide spread is this VM's noise, "
                 "not the code's. The goals below use these medians.")
    lines.append("")
    ratio_table(lambda num, den: pr(num, den).cell(), skip_empty=True)
    lines += ["", "| impl | throughput_uncached 2 / 1 threads | throughput_cached 2 / 1 threads |", "|---|---:|---:|"]
    for impl in sorted({k[0] for k in rates}, key=lambda i: IMPLS.index(i) if i in IMPLS else 99):
        cells = [pr((impl, op, 2), (impl, op, 1)).cell() for op in ("throughput_uncached", "throughput_cached")]
        if any(c != "–" for c in cells):
            lines.append(f"| {impl} | " + " | ".join(cells) + " |")

    lines += ["", "## Throughput (requests per second, all threads together)", ""]
    lines.append("| impl | uncached, 1 thread | 2 threads | 2 / 1 | cached, 1 thread | 2 threads | 2 / 1 |")
    lines.append("|---|---:|---:|---:|---:|---:|---:|")
    for impl in sorted({k[0] for k in rates if k[2] in (1, 2)}, key=lambda i: IMPLS.index(i) if i in IMPLS else 99):
        cells = []
        for op in ("throughput_uncached", "throughput_cached"):
            one, two = rate(impl, op, 1), rate(impl, op, 2)
            cells += ["" if one is None else f"{one:,.0f}", "" if two is None else f"{two:,.0f}", x(ratio(two, one))]
        lines.append(f"| {impl} | " + " | ".join(cells) + " |")

    inflight = rates.get(("node-async", "throughput_cached", NODE_INFLIGHT))
    if inflight is not None:
        lines.append("")
        lines.append(f"node-async: the cached per-request path's Promise forms with {NODE_INFLIGHT} requests in flight "
                     f"on the main thread (one Verifier): {float(inflight['value']):,.0f} req/s, "
                     f"{pr(('node-async', 'throughput_cached', NODE_INFLIGHT), ('node-sync', 'throughput_cached', 1)).cell()} "
                     "the sync form on one thread (paired).")

    if any(("rust", op) in times for op in DELEGATION):
        lines += ["", "## Delegation (Rust core)", ""]
        lines.append("The per-request path (authenticate, then check_policy, as `per_request_*`) on the fixture token "
                     "minted delegable twice, with 0, 1 and 2 delegation links, each a third-party block with one "
                     "check; the proof from the last holder (bench/README.md). Medians in µs.")
        lines += ["", "| links | token (base64 chars) | cached | uncached | cached − 0 links | uncached − 0 links |",
                  "|---:|---:|---:|---:|---:|---:|"]
        hows = ("cached", "uncached")
        base = [med("rust", f"delegated_0_{how}") for how in hows]
        for n in DELEGATION_LINKS:
            medians = [med("rust", f"delegated_{n}_{how}") for how in hows]
            rows = [r for r in (times.get(("rust", f"delegated_{n}_{how}")) for how in hows) if r is not None]
            chars = next((r["token_chars"] for r in rows if "token_chars" in r), None)
            cells = ["" if chars is None else str(chars)]
            cells += ["" if m is None else us(m) for m in medians]
            cells += ["" if m is None or b is None else us(m - b) for m, b in zip(medians, base)]
            lines.append(f"| {n} | " + " | ".join(cells) + " |")

    quiet, loaded = times.get(("node-async", HOST_IO[0])), times.get(("node-async", HOST_IO[1]))
    if quiet or loaded:
        lines += ["", "## Host I/O while Redis is silent (node-async)", ""]
        lines.append("One `fs.promises.readFile` of a 1 KiB file at a time, quiet and then while "
                     f"{(loaded or {}).get('inflight', '?')} `authenticateAsync` calls of a Redis-backed Verifier "
                     "wait on a Redis that accepts and never answers (bench/README.md); µs per read.")
        lines += ["", "| reads | n | median | p95 | max |", "|---|---:|---:|---:|---:|"]
        for name, row in (("quiet", quiet), ("Redis silent", loaded)):
            if row is not None:
                p95 = row.get("p95")
                lines.append(f"| {name} | {row['samples']} | {us(row['median'])} | {'' if p95 is None else us(p95)} "
                             f"| {us(row['max'])} |")
        if quiet and loaded:
            diff = [us(loaded[f] - quiet[f]) if f in loaded and f in quiet else "" for f in ("median", "p95", "max")]
            lines.append("| Redis silent − quiet | | " + " | ".join(diff) + " |")
            lines.append(f"| Redis silent / quiet | | {x(ratio(loaded['median'], quiet['median']))} "
                         f"| {x(ratio(loaded.get('p95'), quiet.get('p95')))} | {x(ratio(loaded['max'], quiet['max']))} |")
        if loaded:
            lines.append("")
            options = ", ".join(f"{k} {v}" for k, v in (loaded.get("redis_options") or {}).items())
            lines.append(f"{loaded.get('pending_after_reads', '?')} of the {loaded.get('inflight', '?')} calls still "
                         "waiting when the last read ended (the reads began once "
                         f"{loaded.get('redis_connections', '?')} connections had sent Redis a command, "
                         f"{loaded.get('waiting_after_ms', 0):.1f} ms after the calls); all STORE_UNAVAILABLE after "
                         f"{loaded.get('redis_wait_ms', 0):,.0f} ms (a read held behind them would have waited at least "
                         f"that long); Redis options {options}.")

    servers = servers or {}
    core = med("rust", "per_request_cached")

    def server_value(impl: str, op: str) -> float | None:
        row = servers.get(impl, {}).get(HTTP_SERVER_PREFIX + op)
        return None if row is None else float(row["value"])

    def over_core(impl: str, less: float = 0.0, paced: bool = True) -> Paired:
        """added (at equal rate when paced) / core − less, in each round that ran the server, against
        that round's own core figure (the HTTP bench runs minutes after the Rust harness's
        per_request_cached of its round, not rounds apart). At equal rate when the run has it:
        protected − plain mixes in what the lower rate costs the server (bench/README.md, "plain
        paced")."""
        def figure(r: dict[tuple[Any, ...], float]) -> float | None:
            added = r.get((impl, HTTP_SERVER_PREFIX + "added_paced_cpu_us")) if paced else None
            if added is None:
                added = r.get((impl, HTTP_SERVER_PREFIX + "added_cpu_us"))
            own = r.get(("rust", "per_request_cached"))
            return None if added is None or not own else added / (own / 1000) - less
        return per_round(rounds, figure)

    server_impls = [i for i in HTTP_SERVER_IMPLS if i in servers] + sorted(set(servers) - set(HTTP_SERVER_IMPLS))
    if server_impls:
        some = next(iter(servers[server_impls[0]].values()))
        rfc9421 = med("rust", "http_rfc9421_cached")
        lines += ["", "## HTTP servers: the middleware's cost (bench/http)", ""]
        lines.append("Each matrix server (tests/http-matrix/) without trustcore (plain: the same app, no middleware) "
                     f"and with its middleware, {some.get('connections', '?')} keep-alive connections from one Go "
                     "client on loopback sending pre-signed `POST /lease/a` (RFC 9421, 16 B body); CPU is the "
                     "server's process tree (utime + stime) over the timed run divided by the requests; "
                     "added = protected − plain; at equal rate = protected − plain paced (the plain server "
                     "again, its requests paced at the protected rate). Each server's figures come from the least "
                     "disturbed of the rounds that ran it (lowest plain + protected CPU); the two columns over the "
                     "core from every such round against that round's own core per_request_cached: the median, "
                     "with the rounds' min–max (bench/README.md).")
        lines.append("")
        lines.append(f"Core, Rust, this run: per_request_cached {'–' if core is None else us(core)} µs, "
                     f"http_rfc9421_cached {'–' if rfc9421 is None else us(rfc9421)} µs.")
        lines += ["", "| server | plain req/s | protected req/s | protected / plain | plain CPU µs/req "
                  "| protected CPU µs/req | added µs/req | added / core per_request_cached "
                  "| plain paced CPU µs/req | added at equal rate µs/req | at equal rate / core |",
                  "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
        for impl in server_impls:
            plain, protected = server_value(impl, "plain_rps"), server_value(impl, "protected_rps")
            cells = ["" if v is None else f"{v:,.0f}" for v in (plain, protected)] + [x(ratio(protected, plain))]
            cells += ["" if v is None else f"{v:.1f}" for v in
                      (server_value(impl, f"{m}_cpu_us") for m in ("plain", "protected", "added"))]
            cells.append(over_core(impl, paced=False).cell())
            cells += ["" if v is None else f"{v:.1f}" for v in
                      (server_value(impl, f"{m}_cpu_us") for m in ("plain_paced", "added_paced"))]
            cells.append(over_core(impl).cell())
            lines.append(f"| {impl} | " + " | ".join(cells) + " |")

    goals: list[dict[str, Any]] = []

    def goal(name: str, value: float | Paired | None, target: str, met: Any) -> None:
        """met: a predicate on the value (the median of the rounds' values when paired)."""
        spread = None
        if isinstance(value, Paired):
            if len(value.values) > 1:
                spread = (value.values[0], value.values[-1], len(value.values))
            value = value.median
        goals.append({"goal": name, "value": value, "target": target, "met": None if value is None else met(value),
                      "rounds_min_max_n": spread})

    def floor_ratio(r: dict[tuple[Any, ...], float]) -> float | None:
        parts = [r.get(("rust", op)) for op in ("per_request_cached", "floor_verify_strict", "check_policy")]
        return None if None in parts else parts[0] / (parts[1] + parts[2])  # type: ignore[operator]

    goal("Rust core cached per-request / floor (one strict verify + one check_policy)", per_round(rounds, floor_ratio),
         "≤ 1.2", lambda v: v <= 1.2)
    # the HTTP decision (RFC 9421 + Content-Digest, 1 KiB body) against today's per-request path; the
    # Rust harness samples the two in turn, the others measure them one after the other
    for impl in HTTP_GOAL_IMPLS:
        goal(f"{impl} http_rfc9421_cached / per_request_cached (same impl, same round)",
             pr((impl, "http_rfc9421_cached"), (impl, "per_request_cached")), f"≤ {HTTP_GOAL:g}",
             lambda v: v <= HTTP_GOAL)
    goal("Python cached per-request: speed-up over trust-core 0.1",
         pr(("trust-core-0.1", "per_request_uncached"), ("python", "per_request_cached")), "≥ 4", lambda v: v >= 4)
    goal("Python uncached per-request: speed-up over trust-core 0.1",
         pr(("trust-core-0.1", "per_request_uncached"), ("python", "per_request_uncached")), "≥ 1.8",
         lambda v: v >= 1.8)
    for op in ("throughput_cached", "throughput_uncached"):
        goal(f"Python {op}: 2 threads / 1 thread", pr(("python", op, 2), ("python", op, 1)), "≥ 1.8",
             lambda v: v >= 1.8)
    for impl, limit in OVERHEAD_GOAL.items():
        for op in ("per_request_uncached", "per_request_cached"):
            goal(f"{impl} {op} / Rust core", pr((impl, op), ("rust", op)), f"≤ {limit}",
                 lambda v, limit=limit: v <= limit)
    goal("signer mint over the socket minus in process (µs)",
         per_round(rounds, lambda r: (r[("rust", "signer_mint_socket")] - r[("rust", "signer_mint_in_process")]) / 1000
                   if ("rust", "signer_mint_socket") in r and ("rust", "signer_mint_in_process") in r else None),
         "≤ 50", lambda v: v <= 50)
    # hostile tokens: measured with a valid request in the same samples (bench/rust/src/main.rs)
    for op in ("hostile_token_refusal", "hostile_token_refusal_verifier"):
        goal(f"{op} / a valid request", pr(("rust", op), ("rust", "hostile_valid_reference")), "≤ 20",
             lambda v: v <= 20)
    for op in ("hostile_token_authorize", "hostile_regex_authorize"):
        goal(f"{op}: ends within 5 × max_time (ms)",
             per_round(rounds, lambda r, op=op: r[("rust", op)] / 1e6 if ("rust", op) in r else None),
             "≤ 50", lambda v: v <= 50)
    grown = rate("rust", "hostile_refused_tokens_rss_growth", 0)
    goal("RSS growth after 1,000 refused 17 KB tokens (KiB, the largest round)", grown, "≤ 8192",
         lambda v: v <= 8192)
    goal(f"node-async: {NODE_INFLIGHT} Promise-form requests in flight over the sync form's 1-thread throughput "
         "(cached path)", pr(("node-async", "throughput_cached", NODE_INFLIGHT), ("node-sync", "throughput_cached", 1)),
         "≥ 1.6", lambda v: v >= 1.6)
    for impl in impls:
        batch = pr((impl, "batch64_one_by_one"), (impl, "batch64"))
        if batch.median is not None:
            goal(f"{impl} batch of 64: throughput over one by one", batch, "≥ 1.6", lambda v: v >= 1.6)

    # Redis: one round trip a request (sampled in turn with a PING and the in-memory path), and a
    # batch as one pipeline
    keys = [("rust", op) for op in ("per_request_cached_redis", "per_request_cached_beside_redis", "redis_ping")]
    goal("rust per_request_cached_redis: (Redis − in-memory) / one PING round trip",
         per_round(rounds, lambda r: (r[keys[0]] - r[keys[1]]) / r[keys[2]] if all(k in r for k in keys) and r[keys[2]]
                   else None), "≤ 1.3", lambda v: v <= 1.3)
    goal("rust batch of 64 on Redis: throughput over one by one",
         pr(("rust", "batch64_one_by_one_redis"), ("rust", "batch64_redis")), "≥ 3", lambda v: v >= 3)

    added = None if quiet is None or loaded is None else (loaded["max"] - quiet["max"]) / 1e6
    overlapped = loaded is not None and loaded.get("pending_after_reads") == loaded.get("inflight")
    goal("node-async fs.readFile while 64 authentications wait on a silent Redis: "
         "slowest read minus quiet slowest (ms)", added, f"≤ {HOST_IO_GOAL_MS:g}, every call still waiting",
         lambda v: v <= HOST_IO_GOAL_MS and overlapped)

    for impl in server_impls:
        r = over_core(impl, less=1.0)
        goal(f"{impl}: middleware's added CPU per request (at equal rate) over the core's per_request_cached, "
             "(added − core) / core", r, f"≤ {HTTP_SERVER_GOAL:g}", lambda v: v <= HTTP_SERVER_GOAL)

    lines += ["", "## Goals", "",
              "Ratios are the median of each round's own ratio (Paired ratios above), with the rounds' min–max.",
              "", "| goal | measured | rounds: min–max | target | |", "|---|---:|---:|---|---|"]
    for g in goals:
        value = "–" if g["value"] is None else f"{g['value']:.2f}"
        spread = g["rounds_min_max_n"]
        spread_cell = "" if spread is None else f"{spread[0]:.2f}–{spread[1]:.2f} ({spread[2]})"
        verdict = {True: "met", False: "**missed**", None: "not measured"}[g["met"]]
        lines.append(f"| {g['goal']} | {value} | {spread_cell} | {g['target']} | {verdict} |")
    lines.append("")
    report = {
        "machine": host,
        "times": [times[k] for k in sorted(times)],
        "throughput": [rates[k] for k in sorted(rates)],
        "http_servers": [row for impl in server_impls for row in servers[impl].values()],
        "goals": goals,
    }
    return "\n".join(lines), report


def chart(times: dict[tuple[str, str], dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("svg")
    import matplotlib.pyplot as plt

    impls = [i for i in IMPLS if any(k[0] == i for k in times)]
    ops = [o for o in OPS if any(k[1] == o for k in times)]
    height = 0.8 / max(len(impls), 1)
    fig, ax = plt.subplots(figsize=(11, 0.55 * len(ops) + 1.5))
    for n, impl in enumerate(impls):
        ys = [i + n * height for i, op in enumerate(ops) if (impl, op) in times]
        values = [times[(impl, op)]["median"] / 1000 for op in ops if (impl, op) in times]
        ax.barh(ys, values, height=height, label=impl)
    ax.set_yticks([i + 0.4 - height / 2 for i in range(len(ops))], ops)
    ax.invert_yaxis()
    ax.set_xscale("log")
    ax.set_xlabel("median µs per operation (log scale; lower is faster)")
    ax.set_title("trustcore: per-operation medians by implementation (make bench)")
    ax.grid(axis="x", which="both", alpha=0.3)
    ax.legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(path, metadata={"Date": None})
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    root = Path(__file__).resolve().parents[1]
    parser.add_argument("--in", dest="src", type=Path, default=root / "target" / "bench")
    parser.add_argument("--out", type=Path, default=root / "bench")
    args = parser.parse_args()
    times, rates, servers, rounds = load(args.src)
    host = machine()
    host["rounds"] = max(1, len([d for d in args.src.glob("round-*") if d.is_dir()]))
    markdown, report = build(times, rates, host, servers, rounds)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.md").write_text(markdown)
    (args.out / "results.json").write_text(json.dumps(report, indent=1, ensure_ascii=False) + "\n")
    chart(times, args.out / "results.svg")
    print(markdown)
    print(f"written: {args.out / 'results.md'}, results.json, results.svg")


if __name__ == "__main__":
    main()
