"""Every vector of the three sources, one test each, and the counts the files declare."""

from __future__ import annotations

import pytest

from conformance import Case, Source, check, load_sources

SOURCES: list[Source] = load_sources()
CASES: list[Case] = [case for source in SOURCES for case in source.cases]


@pytest.mark.conformance
@pytest.mark.parametrize("case", CASES, ids=[f"{c.source}/{c.name}" for c in CASES])
def test_vector(case: Case) -> None:
    failure = check(case)
    assert failure is None, failure


@pytest.mark.parametrize("source", SOURCES, ids=[s.name for s in SOURCES])
def test_count_matches_declared(source: Source) -> None:
    # no case may be skipped silently: what runs must be what the files declare
    assert source.problem is None, source.problem
    assert len(source.cases) == source.declared, f"{source.name}: {len(source.cases)} cases, {source.declared} declared"
