"""The hub's sans-I/O stream state: what gets sent, acknowledgements, stale answers, bounds."""

from __future__ import annotations

from collections.abc import Iterable

from hypothesis import given, settings
from hypothesis import strategies as st

from kfed_core.sync.hub_side import (
    APPLIED,
    FAILED,
    REMOVED,
    DesiredEntry,
    HubSession,
    ResultItem,
)


class Index:
    """A dict-backed desired view."""

    def __init__(self, versions: dict[str, str] | None = None) -> None:
        self.entries = {k: DesiredEntry(k, v, b"{}") for k, v in (versions or {}).items()}

    def set(self, key: str, version: str, manifest: bytes = b"{}") -> None:
        self.entries[key] = DesiredEntry(key, version, manifest)

    def get(self, key: str) -> DesiredEntry | None:
        return self.entries.get(key)

    def keys(self) -> Iterable[str]:
        return self.entries.keys()


def ack_all(session: HubSession, nonce: str) -> None:
    batch = session.in_flight
    assert batch is not None
    results = [ResultItem(key=e.key, version=e.version, outcome=APPLIED) for e in batch.upserts]
    results += [ResultItem(key=k, version="", outcome=REMOVED) for k in batch.removals]
    assert not session.on_result(nonce, results).stale


CM = "core/ConfigMap/default/a"
NS = "core/Namespace//prod"


def test_first_batch_sends_only_what_the_agent_lacks() -> None:
    index = Index({CM: "v1", NS: "n1", "core/Secret/default/s": "s1"})
    session = HubSession(known={CM: "v1", "core/ConfigMap/default/gone": "x"})
    session.start(index)
    batch = session.next_batch(index, "n-1")
    assert batch is not None
    assert [e.key for e in batch.upserts] == [NS, "core/Secret/default/s"]
    assert batch.removals == ("core/ConfigMap/default/gone",)


def test_namespaces_come_before_the_objects_in_them() -> None:
    index = Index({"core/ConfigMap/prod/a": "1", NS: "1", "apps/Deployment/prod/d": "1"})
    session = HubSession(known={}, max_items=1)
    session.start(index)
    batch = session.next_batch(index, "1")
    assert batch is not None and batch.upserts[0].key == NS


def test_nothing_is_sent_while_a_batch_is_in_flight() -> None:
    index = Index({CM: "v1"})
    session = HubSession(known={})
    session.start(index)
    assert session.next_batch(index, "1") is not None
    index.set(CM, "v2")
    session.mark([CM])
    assert session.next_batch(index, "2") is None
    ack_all(session, "1")
    batch = session.next_batch(index, "2")
    assert batch is not None and batch.upserts[0].version == "v2"


def test_latest_version_wins_after_many_changes() -> None:
    index = Index({CM: "v0"})
    session = HubSession(known={})
    session.start(index)
    session.next_batch(index, "1")
    for n in range(1000):
        index.set(CM, f"v{n + 1}")
        session.mark([CM])
    assert session.pending == 1
    ack_all(session, "1")
    batch = session.next_batch(index, "2")
    assert batch is not None and [e.version for e in batch.upserts] == ["v1000"]


def test_stream_ignores_stale_nonce() -> None:
    index = Index({CM: "v1"})
    session = HubSession(known={})
    session.start(index)
    session.next_batch(index, "nonce-1")
    digest = session.on_result("nonce-0", [ResultItem(key=CM, version="v1", outcome=APPLIED)])
    assert digest.stale
    assert session.known == {} and session.in_flight is not None


def test_failed_version_is_not_resent_until_it_changes() -> None:
    index = Index({CM: "v1"})
    session = HubSession(known={})
    session.start(index)
    session.next_batch(index, "1")
    failure = ResultItem(key=CM, version="v1", outcome=FAILED, reason="Invalid", message="bad")
    digest = session.on_result("1", [failure])
    assert digest.failed == (failure,)
    session.mark([CM])  # e.g. an unrelated re-examination
    assert session.next_batch(index, "2") is None
    index.set(CM, "v2")
    session.mark([CM])
    batch = session.next_batch(index, "3")
    assert batch is not None and batch.upserts[0].version == "v2"


def test_unanswered_items_are_sent_again() -> None:
    index = Index({CM: "v1", "core/ConfigMap/default/b": "v1"})
    session = HubSession(known={})
    session.start(index)
    session.next_batch(index, "1")
    digest = session.on_result("1", [ResultItem(key=CM, version="v1", outcome=APPLIED)])
    assert digest.unanswered == ("core/ConfigMap/default/b",)
    batch = session.next_batch(index, "2")
    assert batch is not None and [e.key for e in batch.upserts] == ["core/ConfigMap/default/b"]


def test_results_for_keys_outside_the_batch_are_ignored() -> None:
    index = Index({CM: "v1"})
    session = HubSession(known={})
    session.start(index)
    session.next_batch(index, "1")
    forged = ResultItem(key="core/Secret/other/x", version="v9", outcome=APPLIED)
    digest = session.on_result("1", [forged, ResultItem(key=CM, version="v1", outcome=APPLIED)])
    assert digest.unexpected == ("core/Secret/other/x",)
    assert session.known == {CM: "v1"}


def test_applied_records_the_version_sent_not_the_one_claimed() -> None:
    index = Index({CM: "v1"})
    session = HubSession(known={})
    session.start(index)
    session.next_batch(index, "1")
    session.on_result("1", [ResultItem(key=CM, version="other", outcome=APPLIED)])
    assert session.known == {CM: "v1"}


def test_batches_respect_item_and_byte_limits() -> None:
    index = Index()
    for n in range(10):
        index.set(f"core/ConfigMap/default/c{n}", "v", b"x" * 100)
    session = HubSession(known={}, max_items=4, max_bytes=250)
    session.start(index)
    sizes = []
    nonce = 0
    while (batch := session.next_batch(index, str(nonce))) is not None:
        sizes.append(len(batch))
        ack_all(session, str(nonce))
        nonce += 1
    assert sum(sizes) == 10 and max(sizes) <= 2


def test_abandoned_batch_is_examined_again() -> None:
    index = Index({CM: "v1"})
    session = HubSession(known={})
    session.start(index)
    session.next_batch(index, "1")
    session.abandon_in_flight()
    batch = session.next_batch(index, "2")
    assert batch is not None and batch.upserts[0].key == CM


versions = st.dictionaries(
    st.sampled_from([f"core/ConfigMap/ns/c{n}" for n in range(12)]),
    st.sampled_from(["a", "b", "c"]),
    max_size=12,
)


@settings(max_examples=200, deadline=None)
@given(known=versions, desired=versions, limit=st.integers(min_value=1, max_value=5))
def test_acknowledging_every_batch_converges_to_the_desired_state(
    known: dict[str, str], desired: dict[str, str], limit: int
) -> None:
    index = Index(desired)
    session = HubSession(known=dict(known), max_items=limit)
    session.start(index)
    sent = 0
    nonce = 0
    while (batch := session.next_batch(index, str(nonce))) is not None:
        sent += len(batch)
        ack_all(session, str(nonce))
        nonce += 1
    assert session.known == desired
    # exactly the differences travel, nothing more
    differing = {k for k in desired if known.get(k) != desired[k]} | (known.keys() - desired.keys())
    assert sent == len(differing)


def test_retry_failed_resends_what_a_new_dependency_unblocks() -> None:
    widget = "example.com/Widget/default/w"
    index = Index({widget: "v1", CM: "c1"})
    session = HubSession(known={})
    session.start(index)
    session.next_batch(index, "1")
    session.on_result(
        "1",
        [
            ResultItem(key=widget, version="v1", outcome=FAILED, reason="NotFound"),
            ResultItem(key=CM, version="c1", outcome=FAILED, reason="Invalid"),
        ],
    )
    assert session.next_batch(index, "2") is None
    assert session.retry_failed(lambda key: key.startswith("example.com/")) == [widget]
    batch = session.next_batch(index, "3")
    assert batch is not None and [e.key for e in batch.upserts] == [widget]
