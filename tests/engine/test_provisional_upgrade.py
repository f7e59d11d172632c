"""A store written before provisional moves were kept as "at the evaluation time"
(schema 10: their time, and the position's since, held the evaluation time itself) is
converted on opening and reads the same."""

from __future__ import annotations

import json
from pathlib import Path

from jbuilder import Builder, new_store
from test_provisional_time import JOURNEY, _people

from journeytui.domain.funnel import full_funnel, funnel, load_tally
from journeytui.domain.journey_model import parse_journey
from journeytui.domain.journeys import get_journey, save_journey
from journeytui.store import Store
from journeytui.store.evaluation_time import AT_EVALUATION

_MOVES = ("SELECT contact_id, from_stage, to_stage, at, provisional FROM journey_moves"
          " ORDER BY contact_id, provisional, id")
_POSITIONS = "SELECT contact_id, stage, since FROM journey_positions ORDER BY 1"


def _as_schema_10(store: Store, now_bound: list[int]) -> None:
    """Write the journey rows as schema 10 kept them: provisional moves and the positions
    they decide at the evaluation time; the kept funnel with its list of contacts whose
    durations ended at that time (*now_bound*)."""
    c = store.conn
    now = c.execute("SELECT evaluated_at FROM journey_progress").fetchone()[0]
    c.execute("UPDATE journey_moves SET at = ? WHERE at = ?", (now, AT_EVALUATION))
    c.execute("UPDATE journey_positions SET since = ? WHERE since = ?", (now, AT_EVALUATION))
    figures = json.loads(c.execute("SELECT figures FROM journey_funnels").fetchone()[0])
    c.execute("UPDATE journey_funnels SET figures = ?",
              (json.dumps({**figures, "now_bound": now_bound}),))
    c.execute("PRAGMA user_version = 10")
    c.commit()


def test_a_schema_10_store_is_converted_and_reads_the_same(tmp_path: Path) -> None:
    store = new_store(tmp_path)
    b = Builder(store).catalog()
    _people(b)
    save_journey(store, parse_journey(JOURNEY))
    moves, positions = store.conn.execute(_MOVES).fetchall(), store.conn.execute(
        _POSITIONS).fetchall()
    kept = funnel(store, "P")
    path = store.path
    _as_schema_10(store, [])
    store.close()
    # c1, c2 and c8 were moved A → B by the check at day 10: 3 provisional moves and 3
    # positions converted; a kept funnel with no duration ending then stays current.
    with Store.open(path) as store:
        assert store.conn.execute(_MOVES).fetchall() == moves
        assert store.conn.execute(_POSITIONS).fetchall() == positions
        assert sum(1 for m in moves if m[3] == AT_EVALUATION) == 3
        assert sum(1 for p in positions if p[2] == AT_EVALUATION) == 3
        jid = store.conn.execute("SELECT id FROM journeys").fetchone()[0]
        assert load_tally(store.conn, jid, get_journey(store, "P")[0]) is not None
        assert funnel(store, "P") == kept


def test_a_kept_funnel_with_durations_ending_at_a_past_time_is_not_read(
        tmp_path: Path) -> None:
    store = new_store(tmp_path)
    b = Builder(store).catalog()
    _people(b)
    save_journey(store, parse_journey(JOURNEY))
    kept = funnel(store, "P")
    path = store.path
    # (schema 10 listed c1, c2, c8: their A → B durations ended at the evaluation time
    # and were kept as seconds)
    _as_schema_10(store, [b.contacts[n].id for n in ("c1", "c2", "c8")])
    store.close()
    with Store.open(path) as store:
        jid = store.conn.execute("SELECT id FROM journeys").fetchone()[0]
        assert load_tally(store.conn, jid, get_journey(store, "P")[0]) is None
        # computed from every move meanwhile: the same figures
        assert funnel(store, "P") == full_funnel(store, "P") == kept
