"""The draft preview of the condition editor (``journeytui.domain.preview``) on real
demo stores: the exact funnel is the funnel a full evaluation of the draft gives;
the estimate is labelled as one and is within its stated margin of the exact
figures; a set cancel flag stops a replay between contacts.

The demo store (default size, 2,000 contacts) is built once per session (~1 s); so is
a generated 50,000-contact store (about 6 s of CPU for the store, 3 s for its journey's
evaluation), the size the
preview's tests are asked for: there the default sample (about 3,000 contacts) is a
small share of the contacts, and the exact replay reads its events as a large store's
are read (more rows than the small-store cache keeps).
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from journeytui.demo import generate
from journeytui.demo.journeys import install_demo_journeys
from journeytui.domain.engine import high_water
from journeytui.domain.funnel import funnel
from journeytui.domain.journey_model import Journey, Stage, Transition
from journeytui.domain.journeys import get_journey, save_journey
from journeytui.domain.preview import (
    CACHE_MAX_ROWS,
    Cancel,
    Estimate,
    PreviewCancelled,
    Row,
    Sample,
    affected_stages,
    contact_hash,
    exact,
)
from journeytui.domain.preview import replay as preview_replay
from journeytui.store import Store

NAME = "Lead nurturing"


@pytest.fixture(scope="session")
def demo_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("preview-demo") / "demo.db"
    generate(path)
    return path


@pytest.fixture(scope="session")
def store_50k(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 50,000-contact demo store with "Lead nurturing" saved and evaluated, as
    ``journeytui demo --contacts 50000`` writes it (the other demo journey, which no
    test here reads, is left out: its evaluation is a fifth of the store's cost)."""
    path = tmp_path_factory.mktemp("preview-50k") / "demo-50k.db"
    generate(path, contacts=50_000, journeys=False)
    with Store.open(path) as store:
        install_demo_journeys(store, only=[NAME])
    return path


@pytest.fixture
def demo(demo_store: Path) -> Iterator[Store]:
    store = Store.open(demo_store)
    yield store
    store.close()


# -- drafts of "Lead nurturing" (its transitions: t1 any → At-risk, t2 At-risk →
# Dormant, t3 At-risk → Browsing, t4 Browsing → Interested, t5 Interested → Engaged,
# t6 Engaged → Sales-ready) -------------------------------------------------------------
def _with(j: Journey, k: int, **changes: Any) -> Journey:
    ts = list(j.transitions)
    ts[k] = ts[k].model_copy(update=changes)
    return j.model_copy(update={"transitions": ts})


def first_part_only(k: int) -> Callable[[Journey], Journey]:
    def draft(j: Journey) -> Journey:
        return _with(j, k, when=j.transitions[k].when.any[0])  # type: ignore[union-attr]

    return draft


def new_transition(j: Journey) -> Journey:
    t = Transition.model_validate({"from": "Browsing", "to": "Engaged", "priority": 20,
                                   "when": {"submitted_form": {}}})
    return j.model_copy(update={"transitions": [*j.transitions, t]})


def priority_first(j: Journey) -> Journey:
    return _with(j, 4, priority=1)


def new_stage(j: Journey) -> Journey:
    stages = [*j.stages, Stage(name="Asked", exit=True)]
    t = Transition.model_validate({"from": None, "to": "Asked", "priority": 2,
                                   "when": {"submitted_form": {"form": "Contact sales"}}})
    return j.model_copy(update={"stages": stages, "transitions": [*j.transitions, t]})


DRAFTS = {
    "t4 pricing part deleted": first_part_only(3),
    "t6 one part left": first_part_only(5),
    "t1 unsubscribe only": first_part_only(0),
    "a new transition out of Browsing": new_transition,
    "t5 tried first": priority_first,
    "a new exit stage": new_stage,
}


def counted(f: dict[str, Any]) -> dict[tuple[str, Any], int]:
    """The figures an estimate gives, by the key of its margins."""
    out: dict[tuple[str, Any], int] = {("in_journey", ""): f["in_journey"],
                                       ("moved", 0): f["entry"]["entered"]}
    for row in [*f["stages"], *f["exits"]]:
        out[("reached", row["stage"])] = row["reached"]
        out[("current", row["stage"])] = row["current"]
    for t in f["transitions"]:
        out[("moved", t["number"])] = t["moved"]
    return out


def outside_margin(est: Estimate, exact_figures: dict[str, Any]) -> list[str]:
    got = counted(est.figures)
    want = counted(exact_figures)
    assert got.keys() == want.keys()
    return [f"{key}: exact {want[key]}, estimated {got[key]} ± {est.margin(*key)}"
            for key in want if abs(got[key] - want[key]) > est.margin(*key)]


# -- the exact preview -----------------------------------------------------------------
@pytest.mark.parametrize("what", list(DRAFTS))
def test_the_exact_preview_is_a_full_evaluation_of_the_draft(
        demo_store: Path, tmp_path: Path, what: str) -> None:
    path = tmp_path / "copy.db"
    shutil.copyfile(demo_store, path)
    store = Store.open(path)
    try:
        saved, version = get_journey(store, NAME)
        draft = DRAFTS[what](saved)
        report: dict[str, int] = {}
        previewed = exact(store, draft, saved=NAME, report=report)
        from_scratch = exact(store, draft)  # nothing stored reused
        # the same draft saved: a full evaluation, written, read back as the funnel
        save_journey(store, draft, expected_version=version)
        evaluated = funnel(store, NAME)
    finally:
        store.close()
    assert previewed == evaluated
    assert from_scratch == evaluated
    if what == "t6 one part left":
        # only contacts who ever were in Engaged (t6's source stage) were replayed
        assert report["reused"] == 1
        assert 0 < report["replayed"] <= evaluated["stages"][2]["reached"]


def test_an_edit_touches_only_the_stages_whose_transitions_changed(demo: Store) -> None:
    saved, _ = get_journey(demo, NAME)
    names = saved.stage_names
    assert affected_stages(saved, first_part_only(5)(saved)) == {names.index("Engaged")}
    assert affected_stages(saved, priority_first(saved)) == {names.index("Interested")}
    # a transition from any stage is tried in every main-line stage
    assert affected_stages(saved, first_part_only(0)(saved)) == {
        names.index(n) for n in ("Browsing", "Interested", "Engaged", "Sales-ready")}
    assert affected_stages(saved, new_stage(saved)) is None  # other stages: everyone
    assert affected_stages(saved, saved) == set()


def test_a_set_cancel_flag_stops_the_replay_between_contacts(demo: Store) -> None:
    saved, _ = get_journey(demo, NAME)

    class AfterFiveContacts:
        """A cancel flag set once five contacts have been replayed."""

        checks = 0

        def is_set(self) -> bool:
            self.checks += 1
            return self.checks > 5

    flag = AfterFiveContacts()
    report: dict[str, int] = {}
    with pytest.raises(PreviewCancelled):
        exact(demo, first_part_only(3)(saved), cancel=flag, report=report)  # type: ignore[arg-type]
    # asked once before each contact: it stopped before the sixth, not at the end
    assert flag.checks == 6
    assert report["replayed"] == 5


def test_setting_the_flag_interrupts_the_statement_a_replay_waits_on(
        demo_store: Path) -> None:
    """The ordered read of every event sorts them all before the first contact comes:
    a set flag interrupts that statement too (on the connection being watched)."""
    store = Store.open(demo_store, check_same_thread=False)
    flag = Cancel()
    started = threading.Event()
    outcome: list[str] = []

    def replay_waiting_on_sql() -> None:
        try:
            with flag.watching(store.conn):
                started.set()
                store.conn.execute(  # (counts to 10^12: never ends of itself)
                    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n"
                    " WHERE i < 1000000000000) SELECT count(*) FROM n").fetchone()
            outcome.append("finished")
        except PreviewCancelled:
            outcome.append("cancelled")

    worker = threading.Thread(target=replay_waiting_on_sql)
    worker.start()
    started.wait()
    for _ in range(1200):  # set until it lands while the statement runs
        flag.set()
        worker.join(0.05)
        if not worker.is_alive():
            break
    store.close() if not worker.is_alive() else None
    assert outcome == ["cancelled"]
    # the connection is left alone afterwards (the pool may lend it again)
    assert flag._conns == []


# -- the estimate ----------------------------------------------------------------------
def test_the_sample_is_a_fixed_hash_of_the_contact_id() -> None:
    assert contact_hash(12_345) == contact_hash(12_345)
    # about half of 100,000 consecutive ids hash below the middle of the range (a
    # well-mixed hash: 50,000 ± 3·√(100,000·¼) ≈ 50,000 ± 474)
    below = sum(contact_hash(i) < 1 << 31 for i in range(1, 100_001))
    assert abs(below - 50_000) <= 474


@pytest.mark.parametrize("what", list(DRAFTS))
def test_the_estimate_on_the_demo_store_is_within_its_margin(demo: Store, what: str) -> None:
    # 500 of its ~1,900 contacts with activities: an estimate, not the whole store
    sample = Sample.prepare(demo, NAME, size=500)
    assert not sample.whole and sample.saved_figures is not None
    saved, _ = get_journey(demo, NAME)
    draft = DRAFTS[what](saved)
    est = sample.estimate(demo.conn, draft)
    assert not est.exact and 0 < est.share < 1
    assert est.margin("reached", "Browsing") > 0  # labelled with its margin
    assert outside_margin(est, exact(demo, draft)) == []


@pytest.fixture
def drafts_share_one_read(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The exact previews of the drafts read every contact's events as a large store's
    are read (``_all_contacts``: one ordered read, no cache), once: the store does not
    change between them, so the second draft on replays the rows the first read — as
    the small-store cache would (half of an exact preview's time here is that read).
    Returns the list of the reads made (each a row count)."""
    real = preview_replay._all_contacts
    kept: dict[tuple[int, Any], list[tuple[int, list[Row]]]] = {}
    reads: list[int] = []

    def read_once(conn: Any, hwm: Any) -> Any:
        key = (id(conn), hwm)
        if key not in kept:
            kept[key] = list(real(conn, hwm))
            reads.append(sum(len(rows) for _, rows in kept[key]))
        return kept[key]

    monkeypatch.setattr(preview_replay, "_all_contacts", read_once)
    return reads


@pytest.mark.long
def test_the_estimate_on_50k_contacts_is_within_its_margin(
        store_50k: Path, drafts_share_one_read: list[int]) -> None:
    store = Store.open(store_50k)
    try:
        # the events are read as a large store's are: no cache of every contact's rows
        assert sum(high_water(store.conn)) > CACHE_MAX_ROWS
        sample = Sample.prepare(store, NAME)
        assert not sample.whole and sample.share < 0.2
        saved, _ = get_journey(store, NAME)
        for what, make in DRAFTS.items():
            draft = make(saved)
            est = sample.estimate(store.conn, draft)
            assert not est.exact
            assert outside_margin(est, exact(store, draft, saved=NAME)) == [], what
    finally:
        store.close()
    # the drafts that replay every contact did so from one read of the whole store
    assert len(drafts_share_one_read) == 1
    assert drafts_share_one_read[0] > CACHE_MAX_ROWS


def test_a_store_no_larger_than_a_sample_gets_no_estimate(demo: Store) -> None:
    assert Sample.prepare(demo, NAME, size=100_000).whole
