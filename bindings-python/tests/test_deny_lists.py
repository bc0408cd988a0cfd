"""Deny-lists (``revoked_ids``), each shape pinned: read once, or asked, never a guess in between.

- an exact ``set``, ``frozenset``, ``list`` or ``tuple`` is copied, whatever its size, through core's
  ``DenyList``: ids in their one spelling (a block id in upper case is the same id), MALFORMED_INPUT
  for an entry that has none, a TypeError for an entry that is not a ``str``;
- an iterable without a ``__contains__`` of its own (iterator, generator, ``map``) is read once,
  before any check, in the same way: asked with ``in`` it would be used up by the first id, and a
  token revoked by a later id (its block's) would pass;
- any other object with its own ``__contains__`` (a subclass of a built-in container, a dict, the
  app's store) is asked with each canonical id, never copied.

The same entry rule holds for ``Verifier(revoked_ids=...)``, which reads its initial ids once.
Errors are compared by class (one per code), never by message.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

import trustcore as tc

from helpers import Scene, scene

S = scene()
BLOCK_ID = tc.parse_token(S.issuer.public_hex, S.token).revocation_ids[0]  # lower-case hex
APP_ID = "rev-1"
EXACT: list[Callable[[list[Any]], Any]] = [list, tuple, set, frozenset]


def authenticate(revoked_ids: Any) -> None:
    S.authenticate(revoked_ids=revoked_ids)


def proof(s: Scene, nonce: str) -> tc.WorkerProof:
    return tc.make_proof(s.worker, s.token, s.request, timestamp=str(int(s.now)), nonce=nonce)


def test_the_token_has_a_hex_block_id() -> None:
    assert BLOCK_ID == BLOCK_ID.lower() and BLOCK_ID != BLOCK_ID.upper()


# ---- exact built-ins: copied ---------------------------------------------------------------------


@pytest.mark.parametrize("kind", EXACT, ids=lambda k: k.__name__)
def test_exact_builtins_refuse_by_app_id_and_block_id(kind: Callable[[list[Any]], Any]) -> None:
    authenticate(kind([]))
    authenticate(kind(["other", "rev-2"]))
    for revoked in (APP_ID, BLOCK_ID):
        with pytest.raises(tc.Revoked):
            authenticate(kind(["other", revoked]))


@pytest.mark.parametrize("kind", EXACT, ids=lambda k: k.__name__)
def test_exact_builtins_are_copied_in_canonical_form(kind: Callable[[list[Any]], Any]) -> None:
    # only a copy can see these: asking the container with the canonical id would miss the upper-case
    # entry and never look at the others
    with pytest.raises(tc.Revoked):
        authenticate(kind([BLOCK_ID.upper()]))
    for bad in (" rev-1", "rev-1\n", "0x" + BLOCK_ID, ""):
        with pytest.raises(tc.MalformedInput):
            authenticate(kind(["other", bad]))
    for entry in (APP_ID.encode(), BLOCK_ID.encode(), 7, None):
        with pytest.raises(TypeError):
            authenticate(kind(["other", entry]))
    with pytest.raises(tc.MalformedInput):  # a str UTF-8 cannot hold
        authenticate(kind(["\udcff"]))


def test_large_exact_builtins_are_copied_too() -> None:
    many = {f"rev-{n}" for n in range(2, 5000)}
    authenticate(many)
    with pytest.raises(tc.Revoked):
        authenticate(many | {BLOCK_ID.upper()})
    with pytest.raises(TypeError):
        authenticate(frozenset(many | {b"rev-1"}))  # type: ignore[operator]
    with pytest.raises(tc.MalformedInput):
        authenticate(list(many) + [" rev-1"])


# ---- iterables without __contains__: read once ----------------------------------------------------


def generator(ids: list[Any]) -> Iterator[Any]:
    yield from ids


ONCE: list[tuple[str, Callable[[list[Any]], Any]]] = [
    ("iterator", iter),
    ("generator", generator),
    ("map", lambda ids: map(lambda x: x, ids)),
    ("dict keys iterator", lambda ids: iter(dict.fromkeys(ids))),
]


@pytest.mark.parametrize("make", [m for _, m in ONCE], ids=[n for n, _ in ONCE])
def test_an_iterator_revoking_the_block_id_refuses_the_token(make: Callable[[list[Any]], Any]) -> None:
    # the reported bug: `in` on an iterator used it up on the app id, and the block id was then
    # checked against nothing
    with pytest.raises(tc.Revoked):
        authenticate(make([BLOCK_ID]))
    with pytest.raises(tc.Revoked):
        authenticate(make(["other", APP_ID]))
    with pytest.raises(tc.Revoked):
        authenticate(make([BLOCK_ID.upper()]))
    authenticate(make(["other"]))
    with pytest.raises(TypeError):
        authenticate(make([b"other"]))
    with pytest.raises(tc.MalformedInput):
        authenticate(make([" rev-1"]))


class Iterable:
    """An iterable with no __contains__: each __iter__ call counted."""

    def __init__(self, ids: list[Any]) -> None:
        self.ids, self.iterations = ids, 0

    def __iter__(self) -> Iterator[Any]:
        self.iterations += 1
        return iter(self.ids)


def test_an_iterable_without_contains_is_read_once() -> None:
    ids = Iterable(["other", BLOCK_ID])
    with pytest.raises(tc.Revoked):
        authenticate(ids)
    assert ids.iterations == 1
    passing = Iterable(["other"])
    authenticate(passing)
    assert passing.iterations == 1


def test_a_used_up_iterator_is_an_empty_deny_list() -> None:
    ids = iter([BLOCK_ID])
    with pytest.raises(tc.Revoked):
        authenticate(ids)
    authenticate(ids)  # read to its end by the first call: nothing is left in it


# ---- objects with their own __contains__: asked ---------------------------------------------------


class AskedSet(set[str]):
    """A set subclass answering on its own (say, kept in sync with a database)."""

    def __init__(self, ids: set[str]) -> None:
        super().__init__(ids)
        self.asked: list[object] = []

    def __contains__(self, item: object) -> bool:
        self.asked.append(item)
        return super().__contains__(item)

    def __iter__(self) -> Iterator[str]:
        raise AssertionError("an object with its own __contains__ is never copied")


def test_a_set_subclass_with_its_own_contains_is_asked_not_copied() -> None:
    revoked = AskedSet({BLOCK_ID})
    with pytest.raises(tc.Revoked):
        authenticate(revoked)
    assert revoked.asked == [APP_ID, BLOCK_ID]  # the app id first, then each block's, canonical
    passing = AskedSet({"other"})
    authenticate(passing)
    assert passing.asked == [APP_ID, BLOCK_ID]


@pytest.mark.parametrize("base", [set, frozenset, list, tuple, dict], ids=lambda b: b.__name__)
def test_subclasses_of_builtins_are_asked(base: type) -> None:
    # an inherited __contains__ is still the object's own: asked, so entries are not checked, and an
    # entry in another spelling than the canonical one does not match
    subclass = type(f"My{base.__name__}", (base,), {"__iter__": lambda self: iter(["never read"])})
    entries: Any = dict.fromkeys([BLOCK_ID, b"bytes", " spaced"]) if base is dict else [BLOCK_ID, b"bytes", " spaced"]
    with pytest.raises(tc.Revoked):
        authenticate(subclass(entries))
    upper: Any = dict.fromkeys([BLOCK_ID.upper()]) if base is dict else [BLOCK_ID.upper()]
    authenticate(subclass(upper))


class Store:
    """The app's own deny-list: __contains__ only, asked with canonical ids."""

    def __init__(self, ids: set[str], fail: bool = False) -> None:
        self.ids, self.fail = ids, fail
        self.asked: list[object] = []

    def __contains__(self, item: object) -> bool:
        self.asked.append(item)
        if self.fail:
            raise ConnectionError("deny-list store is down")
        return item in self.ids


def test_a_custom_container_is_asked_with_canonical_ids() -> None:
    store = Store({"nope"})
    authenticate(store)
    assert store.asked == [APP_ID, BLOCK_ID]
    with pytest.raises(tc.Revoked):
        authenticate(Store({BLOCK_ID}))
    with pytest.raises(ConnectionError):  # a store that cannot answer: its exception, never a pass
        authenticate(Store(set(), fail=True))
    with pytest.raises(tc.Revoked):  # a dict is asked about its keys
        authenticate({APP_ID: True})


class NotAContainer:
    __contains__ = None

    def __iter__(self) -> Iterator[str]:
        return iter([BLOCK_ID])


def test_a_contains_set_to_none_is_no_contains() -> None:
    with pytest.raises(tc.Revoked):
        authenticate(NotAContainer())


@pytest.mark.parametrize("bad", ["rev-1", b"rev-1", bytearray(b"rev-1"), None, 7, object()], ids=repr)
def test_what_is_not_a_deny_list_is_a_type_error(bad: Any) -> None:
    with pytest.raises(TypeError):
        authenticate(bad)


# ---- the Verifier: its initial ids read once, by the same rule; revoke in one spelling -----------


def test_verifier_revoked_ids_follow_the_same_rule() -> None:
    s = S  # BLOCK_ID is its token's
    # the verifier keeps its own store, so every iterable is read (a container with __contains__
    # alone cannot be: TypeError)
    shapes: list[Any] = [
        [BLOCK_ID.upper()],
        (APP_ID,),
        {BLOCK_ID.upper()},
        frozenset([APP_ID]),
        generator([BLOCK_ID]),
        map(str.upper, [BLOCK_ID]),
        Iterable([BLOCK_ID]),
    ]
    for n, ids in enumerate(shapes):
        verifier = tc.Verifier(s.issuer.public_hex, revoked_ids=ids)
        with pytest.raises(tc.Revoked):
            verifier.authenticate(proof(s, f"v-{n}"), s.request, now=s.now)
    tc.Verifier(s.issuer.public_hex, revoked_ids=generator(["other"])).authenticate(proof(s, "ok"), s.request, now=s.now)
    for entries in ([b"rev-1"], generator([b"rev-1"]), {7}):
        with pytest.raises(TypeError):
            tc.Verifier(s.issuer.public_hex, revoked_ids=entries)
    for bad in (" rev-1", "0x" + BLOCK_ID, ""):
        with pytest.raises(tc.MalformedInput):
            tc.Verifier(s.issuer.public_hex, revoked_ids=[bad])
    for not_ids in ("rev-1", b"rev-1", Store({APP_ID}), 7):
        with pytest.raises(TypeError):
            tc.Verifier(s.issuer.public_hex, revoked_ids=not_ids)  # type: ignore[arg-type]


def test_verifier_revoke_takes_one_spelling() -> None:
    s = S  # BLOCK_ID is its token's
    verifier = tc.Verifier(s.issuer.public_hex)
    verifier.revoke(BLOCK_ID.upper())
    with pytest.raises(tc.Revoked):
        verifier.authenticate(proof(s, "a"), s.request, now=s.now)
    for bad in (" rev-1", "0X" + BLOCK_ID, ""):
        with pytest.raises(tc.MalformedInput):
            verifier.revoke(bad)
