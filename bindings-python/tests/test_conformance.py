"""Every vector of the four sources (trust-core 0.1, tests/vectors, the Biscuit samples, the RFC 9421
examples), one test each, and the counts the files declare.

The signer vectors run against a live daemon per file (started at the file's first case); after
them, each daemon is stopped with SIGTERM and must exit 0 and remove its socket.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from conformance import Case, SignerDaemons, SignerSettings, Source, check, load_sources

SOURCES: list[Source] = load_sources()
CASES: list[Case] = [case for source in SOURCES for case in source.cases]
SIGNER_FILES: list[SignerSettings] = [settings for source in SOURCES for settings in source.signer_files]


@pytest.fixture(scope="module")
def daemons() -> Iterator[SignerDaemons]:
    running = SignerDaemons()
    try:
        yield running
    finally:
        running.stop_all()  # only what a failed or deselected stop test left running


@pytest.mark.conformance
@pytest.mark.parametrize("case", CASES, ids=[f"{c.source}/{c.name}" for c in CASES])
def test_vector(case: Case, daemons: SignerDaemons) -> None:
    failure = check(case, daemons)
    assert failure is None, failure


# after test_vector (pytest keeps the order of a module): the daemons the signer cases used
@pytest.mark.parametrize("settings", SIGNER_FILES, ids=[s.file for s in SIGNER_FILES])
def test_signer_daemon_stops_cleanly(settings: SignerSettings, daemons: SignerDaemons) -> None:
    daemons.get(settings)  # already running unless its cases were deselected
    daemons.stop(settings)


@pytest.mark.parametrize("source", SOURCES, ids=[s.name for s in SOURCES])
def test_count_matches_declared(source: Source) -> None:
    # no case may be skipped silently: what runs must be what the files declare
    assert source.problem is None, source.problem
    assert len(source.cases) == source.declared, f"{source.name}: {len(source.cases)} cases, {source.declared} declared"


def test_signer_vectors_are_there() -> None:
    # tests/vectors/signer.json carries the signer settings; losing them would skip its daemon
    assert "signer.json" in [s.file for s in SIGNER_FILES]
