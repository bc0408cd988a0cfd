"""Prints the conformance tally the way every runner does (`conformance: N passed, N failed`)."""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # tests import the runner module `conformance`

_outcomes: Counter[str] = Counter()
_ran_by_source: Counter[str] = Counter()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "conformance: one conformance vector")


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if "conformance" not in report.keywords:
        return
    if report.when == "call" or (report.when == "setup" and not report.passed):
        _outcomes["passed" if report.passed else "failed"] += 1
        source = report.nodeid.split("[", 1)[-1].split("/", 1)[0]
        _ran_by_source["tests/vectors" if source == "tests" else source] += 1


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not _outcomes:
        return
    from conformance import load_sources

    for source in load_sources():
        terminalreporter.write_line(
            f"conformance {source.name}: {_ran_by_source[source.name]} cases run, {source.declared} declared"
        )
    terminalreporter.write_line(f"conformance: {_outcomes['passed']} passed, {_outcomes['failed']} failed")
