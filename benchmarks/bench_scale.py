"""Cost against store size: every figure of the scale issue at 2k, 100k and 1M contacts,
each beside its floor, measured in one run, with the ratios and the growth 2k → 1M.

    BENCH_STORES_REUSE=1 .venv/bin/python benchmarks/bench_scale.py \\
        [--sizes 2000 100000 1000000] [--runs 5] [--big-runs 3] [--skip-tui]
        [--only import funnel evaluate activities tui]

Each size's cached demo store (benchmarks/stores.py) is copied first; everything
writes to the copy only.  A copy whose journeys have no kept funnel yet (a store
built before the funnel was kept) is evaluated once before measuring (said).

Figures (medians of --runs; whole-process ones of --big-runs at 1M, where one run
takes minutes):

* ``import sendgrid`` of a 100-event file into the store with its journeys (whole
  process), floor: a process that parses the same file and inserts the events into
  a scratch SQLite table;
* ``funnel "Lead nurturing"`` (whole process), floor ``python -c "import sqlite3,
  json"``; and in-process, the kept funnel beside the same funnel computed from
  every stored move (what every open cost before);
* ``evaluate "Lead nurturing"`` and ``evaluate`` (all journeys): wall time, CPU
  time (its worker processes' too) and the evaluating process's peak RSS and own
  memory, floor: the ``sqlite3`` shell reading the same events in the
  engine's order (output to /dev/null); below 1M also ``evaluate`` with its replay
  in one process (JOURNEYTUI_EVALUATION_WORKERS=0: what splitting it over worker
  processes gains);
* ``activities EMAIL`` (text, all rows; and ``--json``) for the email with the most
  activities: wall, peak RSS and the process's own memory (its private pages, not
  the store's pages it reads through a memory map: those are the OS file cache's),
  floor: the ``sqlite3`` shell running the same join;
* ``funnel "Lead nurturing" --stage S --contacts`` (text, ``--json``) and ``--csv
  FILE`` for its largest stage: the same figures, floor: the ``sqlite3`` shell
  running the stage's join; and ``segment export`` (SendGrid layout) of a segment
  holding that whole stage (added to the journey's definition in the copy), floor:
  the join of its members;
* the TUI, in one process per size, timed by its frames (key sent → the first frame
  that shows the result): the Journeys pane opening (key 4 → funnel drawn, and →
  settled; ``r`` → the funnel read again and drawn), floor: the funnel read in
  process; every other pane shown (key → settled); ``G`` at the end of the longest
  stage list and of the longest activities list (key → last row drawn; RSS growth),
  floor: the same last page read directly with the domain's keyset query.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import resource
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from stores import store_path  # noqa: E402

from journeytui.domain import engine  # noqa: E402
from journeytui.domain.funnel import full_funnel, funnel, load_tally  # noqa: E402
from journeytui.domain.journeys import get_journey, journey_id  # noqa: E402
from journeytui.store import Store  # noqa: E402

JT = str(Path(sys.executable).with_name("journeytui"))
LEAD = "Lead nurturing"
PARTS = ("import", "funnel", "evaluate", "activities", "stage", "tui")
FLOOR_INSERT = r"""
import json, sqlite3, sys
rows = [json.loads(line) for line in open(sys.argv[1], encoding="utf-8")]
c = sqlite3.connect(sys.argv[2])
c.execute("CREATE TABLE IF NOT EXISTS e(email, at, event, id, msg, url)")
c.executemany("INSERT INTO e VALUES (?,?,?,?,?,?)", [(r["email"], r["timestamp"],
              r["event"], r["sg_event_id"], r["sg_message_id"], r.get("url")) for r in rows])
c.commit()
"""


def run(argv: list[str], *, stdin: Any = None) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of a whole process, its output thrown away.
    (/usr/bin/time measures the RSS: a child forked from this process would count
    this process's pages until its exec.)"""
    with tempfile.NamedTemporaryFile("r", suffix=".time") as rec:
        t = time.perf_counter()
        p = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", rec.name, *argv],
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, stdin=stdin)
        wall = time.perf_counter() - t
        if p.returncode != 0:
            raise SystemExit(f"{' '.join(argv[:4])}…: exit {p.returncode}: "
                             f"{p.stderr.decode()[-500:]}")
        rss_kb = int(rec.read().strip().splitlines()[-1])
    return wall, rss_kb / 1024


def run_own(argv: list[str], *, stdin: Any = None) -> tuple[float, float, float, float]:
    """Wall seconds, CPU seconds (user + system), peak RSS (MB) and peak own memory
    (MB: RssAnon, the process's private pages, without the file pages it maps) of a
    whole process, its output thrown away.  The memory figures are read from /proc
    every 2 ms (the peak RSS is the kernel's high-water mark, VmHWM); the CPU time is
    the process's own (wait4), which a busy machine changes far less than the wall."""
    t = time.perf_counter()
    p = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, stdin=stdin)
    hwm = own = 0
    status = Path(f"/proc/{p.pid}/status")
    while True:
        try:
            fields = dict(line.split(":", 1) for line in status.read_text().splitlines())
            hwm = max(hwm, int(fields["VmHWM"].split()[0]))
            own = max(own, int(fields["RssAnon"].split()[0]))
        except (OSError, KeyError, ValueError):
            pass  # ending: /proc has no memory figures for it any more
        pid, code, usage = os.wait4(p.pid, os.WNOHANG)
        if pid:
            break
        time.sleep(0.002)
    wall = time.perf_counter() - t
    p.returncode = os.waitstatus_to_exitcode(code)
    assert p.stderr is not None
    err = p.stderr.read()
    p.stderr.close()
    if p.returncode != 0:
        raise SystemExit(f"{' '.join(argv[:4])}…: exit {p.returncode}: {err.decode()[-500:]}")
    return wall, usage.ru_utime + usage.ru_stime, hwm / 1024, own / 1024


def cli_beside_floor(r: Row, argv: list[str], floor_sql: Path, reps: int) -> None:
    """*reps* runs of *argv* (a whole process), each beside the ``sqlite3`` shell
    reading *floor_sql*; the ratio of CPU times and the own memory in the note."""
    own: list[float] = []
    cpu: list[float] = []
    for _ in range(reps):
        t, c, rss, mine = run_own(argv)
        r.t.append(t)
        r.rss.append(rss)
        own.append(mine)
        with floor_sql.open() as fh:
            ft, fc, frss, _ = run_own(
                ["sqlite3", "-readonly", argv[argv.index("--db") + 1]], stdin=fh)
        r.f.append(ft)
        r.frss.append(frss)
        cpu.append(c / fc)
    r.note = f"CPU {med(cpu):.2f} ×; own memory {med(own):.0f} MB"


def med(xs: list[float]) -> float:
    return statistics.median(xs)


class Row:
    """One figure beside its floor (wall seconds, optional peak RSS in MB)."""

    def __init__(self, what: str, floor_what: str) -> None:
        self.what, self.floor_what = what, floor_what
        self.t: list[float] = []
        self.f: list[float] = []
        self.rss: list[float] = []
        self.frss: list[float] = []
        self.note = ""

    def ratio(self) -> float | None:
        if not self.f or not self.t:
            return None
        # per pair, measured side by side
        return med([a / b for a, b in zip(self.t, self.f, strict=False)])

    def line(self) -> str:
        t = f"{med(self.t) * 1000:9.1f} ms" if self.t else "        —"
        f = f"{med(self.f) * 1000:9.1f} ms" if self.f else "        —"
        r = self.ratio()
        rs = f"{r:6.2f} ×" if r is not None else "      —"
        mem = f"  {med(self.rss):6.0f} MB" if self.rss else ""
        fmem = f" (floor {med(self.frss):.0f} MB)" if self.frss else ""
        n = f"  n={len(self.t)}"
        return (f"  {self.what:<44}{t}  {self.floor_what:<30}{f}  {rs}{mem}{fmem}{n}"
                f"{'  ' + self.note if self.note else ''}")


def hundred_events(conn: sqlite3.Connection, k: int, at: int) -> list[dict[str, Any]]:
    """100 events (delivered, open, click for 33 contacts, one more delivered) of the
    latest sent email, for consented contacts that already have activities; run *k*
    picks other contacts, and every event id is new."""
    email, url = conn.execute(
        "SELECT e.name, l.url FROM emails e JOIN links l ON l.email_id = e.id"
        " WHERE e.id = (SELECT email_id FROM sends ORDER BY at DESC LIMIT 1) LIMIT 1").fetchone()
    people = [r[0] for r in conn.execute(
        "SELECT c.email FROM contacts c WHERE c.consent = 1 AND EXISTS"
        " (SELECT 1 FROM activities a WHERE a.contact_id = c.id)"
        " ORDER BY c.id LIMIT 34 OFFSET ?", (34 * k,))]
    out: list[dict[str, Any]] = []
    for i, who in enumerate(people):
        msg = f"bench{k}x{i}.filter0001.1.0"
        kinds = ["delivered", "open", "click"] if i < 33 else ["delivered"]
        for j, ev in enumerate(kinds):
            e = {"email": who, "timestamp": at + 60 * i + j, "event": ev,
                 "sg_event_id": f"bench-{k}-{i}-{j}", "sg_message_id": msg,
                 "marketing_campaign_name": email}
            if ev == "click":
                e["url"] = url
            out.append(e)
    return out[:100]


def events_sql(conn: sqlite3.Connection) -> str:
    """The engine's reads of a full evaluation, as one script for the sqlite3 shell."""
    hwm = engine.high_water(conn)
    params = engine.hwm_params(hwm)

    def bind(sql: str) -> str:
        for k, v in params.items():
            sql = sql.replace(f":{k}", str(int(v)))
        return sql

    return bind(engine.EVENTS_SQL) + ";\n" + bind(engine.CHANGES_SQL) + ";\n"


def busiest_email(conn: sqlite3.Connection) -> tuple[int, str, int]:
    eid, n = conn.execute(
        "SELECT email_id, count(*) FROM activities WHERE email_id IS NOT NULL"
        " GROUP BY email_id ORDER BY 2 DESC LIMIT 1").fetchone()
    name = conn.execute("SELECT name FROM emails WHERE id = ?", (eid,)).fetchone()[0]
    return int(eid), str(name), int(n)


def measure_size(n: int, runs: int, big_runs: int, tmp: Path, skip_tui: bool,
                 only: set[str] | None = None) -> dict[str, Row]:
    src = store_path(n)
    db = tmp / f"scale-{n}.db"
    t = time.perf_counter()
    shutil.copy(src, db)
    print(f"\n== {n:,} contacts ({src.name}, {src.stat().st_size / 1e6:,.0f} MB;"
          f" copied in {time.perf_counter() - t:.1f} s)", flush=True)
    store = Store.open(db)
    jids = {name: journey_id(store, name) for name in (LEAD, "Webinar")}
    missing = [name for name, jid in jids.items() if jid is not None and load_tally(
        store.conn, jid, get_journey(store, name)[0]) is None]
    if missing:
        t = time.perf_counter()
        engine.evaluate_all(store)
        print(f"  (setup: no kept funnel in this older store: evaluated {', '.join(missing)}"
              f" once in {time.perf_counter() - t:.1f} s)", flush=True)
    conn = store.conn
    latest = engine.default_now(conn)
    sql_events = events_sql(conn)
    eid, email, n_acts = busiest_email(conn)
    store.close()
    reps = big_runs if n >= 1_000_000 else runs
    rows: dict[str, Row] = {}

    def want(part: str) -> bool:
        return only is None or part in only

    if want("import"):
        # import of 100 events
        r = rows["import"] = Row("import sendgrid, 100 events (process)", "parse + insert (process)")
        for k in range(runs):
            c = sqlite3.connect(db)
            evs = hundred_events(c, k, latest + 3600 * (k + 1))
            c.close()
            f = tmp / f"hundred-{n}-{k}.json"
            f.write_text("".join(json.dumps(e) + "\n" for e in evs), encoding="utf-8")
            r.t.append(run([JT, "import", "sendgrid", str(f), "--db", str(db)])[0])
            scratch = tmp / f"scratch-{n}-{k}.db"
            r.f.append(run([sys.executable, "-c", FLOOR_INSERT, str(f), str(scratch)])[0])
        print(r.line(), flush=True)

    if want("funnel"):
        # funnel: whole process, and in-process kept vs computed from every move
        r = rows["funnel_cli"] = Row(f"funnel {LEAD!r} (process)", "python -c 'import sqlite3, json'")
        for _ in range(runs):
            r.t.append(run([JT, "funnel", LEAD, "--db", str(db)])[0])
            r.f.append(run([sys.executable, "-c", "import sqlite3, json"])[0])
        print(r.line(), flush=True)
        r = rows["funnel"] = Row("funnel, kept (in process)", "computed from every move")
        store = Store.open(db, readonly=True)
        funnel(store, LEAD)
        for _ in range(runs):
            t = time.perf_counter()
            funnel(store, LEAD)
            r.t.append(time.perf_counter() - t)
        for _ in range(min(runs, 3) if n >= 1_000_000 else runs):
            t = time.perf_counter()
            full_funnel(store, LEAD)
            r.f.append(time.perf_counter() - t)
        r.note = "(ratio: kept / computed)"
        store.close()
        print(r.line(), flush=True)

    if want("evaluate"):
        # evaluation
        script = tmp / f"events-{n}.sql"
        script.write_text(sql_events, encoding="utf-8")
        evaluations = [
            ("eval_lead", [JT, "evaluate", LEAD, "--db", str(db)], f"evaluate {LEAD!r}"),
            ("eval_all", [JT, "evaluate", "--db", str(db)], "evaluate (all journeys)"),
        ]
        if n < 1_000_000:  # the replay not split over workers (minutes a run at 1M)
            evaluations.append((
                "eval_all_1", ["env", "JOURNEYTUI_EVALUATION_WORKERS=0", JT, "evaluate",
                               "--db", str(db)], "evaluate (all), in one process"))
        for key, argv, label in evaluations:
            # (every journey is evaluated in one read of the events; the CPU time
            # counts the worker processes too, the memory is the evaluating process's:
            # a worker's RSS also counts the store pages it reads through a memory map)
            r = rows[key] = Row(label, "sqlite3 ordered read")
            cli_beside_floor(r, argv, script, reps)
            print(r.line(), flush=True)

    if want("activities"):
        # activities EMAIL
        join = tmp / f"join-{n}.sql"
        join.write_text(
            "SELECT a.at, trim(c.first_name || ' ' || c.last_name), c.email, a.kind, a.value"
            " FROM activities a JOIN contacts c ON c.id = a.contact_id"
            f" WHERE a.email_id = {eid} ORDER BY a.at DESC, a.id DESC;\n", encoding="utf-8")
        for key, flags, label in (("activities", [], f"activities (text, {n_acts:,} rows)"),
                                  ("activities_json", ["--json"], "activities --json")):
            r = rows[key] = Row(label, "sqlite3 join")
            cli_beside_floor(r, [JT, "activities", email, *flags, "--db", str(db)], join, runs)
            print(r.line(), flush=True)

    if want("stage"):
        # the largest stage's contacts: text, JSON, CSV file
        c = sqlite3.connect(db)
        jid, stage, n_in = c.execute(
            "SELECT p.journey_id, p.stage, count(*) FROM journey_positions p"
            " JOIN journeys j ON j.id = p.journey_id WHERE j.name = ? AND p.stage IS NOT NULL"
            " GROUP BY p.stage ORDER BY 3 DESC LIMIT 1", (LEAD,)).fetchone()
        c.close()
        stage_sql = tmp / f"stage-{n}.sql"
        quoted = stage.replace("'", "''")
        stage_sql.write_text(
            "SELECT c.email, c.first_name, c.last_name, p.since FROM journey_positions p"
            f" JOIN contacts c ON c.id = p.contact_id WHERE p.journey_id = {int(jid)}"
            f" AND p.stage = '{quoted}' ORDER BY p.since, p.contact_id;\n", encoding="utf-8")
        base = [JT, "funnel", LEAD, "--stage", stage]
        csv_file = tmp / f"stage-{n}.csv"
        for key, flags, label in (
            ("stage_text", ["--contacts"], f"stage {stage} contacts ({n_in:,}, text)"),
            ("stage_json", ["--contacts", "--json"], "stage contacts --json"),
            ("stage_csv", ["--csv", str(csv_file)], "stage contacts --csv FILE"),
        ):
            r = rows[key] = Row(label, "sqlite3 join")
            cli_beside_floor(r, [*base, *flags, "--db", str(db)], stage_sql, runs)
            print(r.line(), flush=True)
        # a segment of that whole stage (the demo stores have none: one is added to the
        # journey's stored definition in this copy; segments are read from it when
        # asked), exported as a SendGrid upload beside the join of its members
        c = sqlite3.connect(db)
        definition = json.loads(c.execute("SELECT definition FROM journeys WHERE id = ?",
                                          (jid,)).fetchone()[0])
        definition["segments"] = [{"name": "Whole stage", "stage": stage}]
        c.execute("UPDATE journeys SET definition = ? WHERE id = ?",
                  (json.dumps(definition, ensure_ascii=False, sort_keys=True), jid))
        c.commit()
        c.close()
        segment_sql = tmp / f"segment-{n}.sql"
        segment_sql.write_text(
            "SELECT c.email, c.first_name, c.last_name FROM journey_positions p"
            f" JOIN contacts c ON c.id = p.contact_id WHERE p.journey_id = {int(jid)}"
            f" AND p.stage = '{quoted}' AND c.unsubscribed_all = 0"
            " ORDER BY p.since, p.contact_id;\n", encoding="utf-8")
        r = rows["segment_export"] = Row("segment export (whole stage), sendgrid",
                                         "sqlite3 join")
        cli_beside_floor(r, [JT, "segment", "export", "Whole stage", str(tmp / f"seg-{n}.csv"),
                             "--format", "sendgrid", "--db", str(db)], segment_sql, runs)
        print(r.line(), flush=True)

    if want("tui") and not skip_tui:
        rows.update(asyncio.run(tui_figures(db, eid, runs)))
    return rows


def rss_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


async def tui_figures(db: Path, eid: int, runs: int) -> dict[str, Row]:
    """The app in one process (headless, 80×24), timed by its frames: a key is sent as
    the terminal sends it, and the clock stops at the frame handed to the driver
    (``App._display``) that first shows what the key asked for.  (``pilot.press``
    and ``pilot.pause`` are not on the clock: they sleep ≥ 20 ms each until the CPU
    looks idle, 60–100 ms a key.)  "Settled" is the last frame before nothing loads
    and nothing is drawn for 150 ms."""
    from textual import events

    from journeytui.domain.activities import email_activities_before
    from journeytui.domain.funnel import count_in_stage, stage_page
    from journeytui.tui.app import make_app
    from journeytui.tui.journey_data import stored_figures
    from journeytui.tui.panes.activities import ActivitiesPane
    from journeytui.tui.panes.journeys import JourneysPane

    out: dict[str, Row] = {}
    cfg = Path(tempfile.mkdtemp(prefix="jt-bench-cfg-"))
    app = make_app(db, config_dir=cfg, blink=False)
    frames: list[float] = []
    waiting: list[tuple[Any, list[float]]] = []  # (condition, [time of the first frame])
    display = app._display

    def _display(screen: Any, renderable: Any) -> None:
        if renderable is not None:
            now = time.perf_counter()
            frames.append(now)
            for ready, hit in waiting:
                if not hit and ready():
                    hit.append(now)
        display(screen, renderable)

    app._display = _display  # type: ignore[method-assign]

    def busy() -> bool:
        return app.status_text() != "Ready" or any(
            w.is_running and w.group != "store-watch" for w in app.workers)

    async with app.run_test(size=(80, 24)):
        async def settled(quiet: float = 0.15) -> None:
            while True:
                while busy():
                    await asyncio.sleep(0.002)
                drawn = len(frames)
                await asyncio.sleep(quiet)
                if len(frames) == drawn and not busy():
                    return

        async def key(name: str, ready: Any = None) -> tuple[float, float]:
            """Press *name* → (seconds to the first frame where *ready* holds, to the
            last frame before the app settled)."""
            await settled()
            hit: list[float] = []
            waiting[:] = [(ready, hit)] if ready is not None else []
            drawn = len(frames)
            t = time.perf_counter()
            assert app._driver is not None
            app._driver.send_message(events.Key(name, name))
            await settled()
            waiting.clear()
            after = [f - t for f in frames[drawn:] if f > t]
            if not after or (ready is not None and not hit):
                raise SystemExit(f"key {name}: the frame it should draw never came"
                                 f" ({len(after)} frames; focus on {app.screen.focused})")
            return (hit[0] - t if hit else after[0]), after[-1]

        await settled(0.5)
        while not app.main.query(JourneysPane):  # mounted once start-up is done
            await asyncio.sleep(0.01)
        await settled()
        pane = app.main.query_one(JourneysPane)
        store = Store.open(db, readonly=True)
        opens = out["pane"] = Row("Journeys pane opens (key → funnel drawn)",
                                  "the funnel read (in process)")
        still = out["pane_settled"] = Row("Journeys pane opens (key → settled)",
                                          "the funnel read (in process)")
        for _ in range(runs):
            if app.main.current != "emails":  # (a pane key on its own pane draws nothing)
                await key("1")
            first, last = await key("4", lambda: app.main.current == "journeys"
                                    and pane.funnel.figures is not None)
            opens.t.append(first)
            still.t.append(last)
            t = time.perf_counter()
            stored_figures(store, LEAD, 30)
            opens.f.append(time.perf_counter() - t)
            still.f.append(opens.f[-1])
        opens.note = f"(first open {opens.t[0] * 1000:.0f} ms)"
        print(opens.line(), flush=True)
        print(still.line(), flush=True)
        r = out["pane_reload"] = Row("Journeys pane, r (funnel read again → drawn)",
                                     "the funnel read (in process)")
        for _ in range(runs):
            before = pane.figures
            first, _last = await key("r", lambda before=before: pane.figures is not before
                                     and pane.funnel.figures is pane.figures)
            r.t.append(first)
            t = time.perf_counter()
            stored_figures(store, LEAD, 30)
            r.f.append(time.perf_counter() - t)
        print(r.line(), flush=True)
        for number, title in (("1", "Emails"), ("2", "Activities"), ("3", "Contacts"),
                              ("5", "Conditions"), ("6", "Insights")):
            r = out[f"switch_{title.lower()}"] = Row(f"{title} pane shown (key → settled)", "")
            for _ in range(runs):
                # from the Journeys pane (a digit typed in the Contacts pane's search
                # field is text, not a pane key)
                app.main.show_pane("journeys")
                r.t.append((await key(number))[1])
            print(r.line(), flush=True)
        app.main.show_pane("journeys")
        await settled()
        assert app.main.current == "journeys"
        assert pane.jid is not None and pane.figures is not None
        jid = pane.jid

        async def to_the_end(r: Row, table: Any, floor: Callable[[], object]) -> None:
            """G in *table* (focused): key → the frame with the last row, the RSS growth,
            and *floor* (the same last page read directly) timed beside it; then g."""
            table.focus()
            await settled()
            before_mb = rss_mb()
            first, _last = await key("G", lambda: table.row_count is not None
                                     and table.row_at(table.row_count - 1) is not None
                                     and table.cursor_row == table.row_count - 1)
            r.t.append(first)
            r.rss.append(rss_mb() - before_mb)
            t = time.perf_counter()
            floor()
            r.f.append(time.perf_counter() - t)
            await key("g")

        # the longest stage list
        stage = max(pane.figures.stages, key=lambda s: s.current)
        r = out["stage_end"] = Row(f"stage list {stage.name} ({stage.current:,}), G",
                                   "last page by keyset")
        for _ in range(runs):
            pane.funnel.select_key(f"stage:{stage.name}")
            await to_the_end(r, pane.detail, lambda: (
                stage_page(store, jid, stage.name, before=None, sort="longest", after=None,
                           limit=200, backwards=True),
                count_in_stage(store, jid, stage.name, None)))
        r.note = "(RSS: growth per jump)"
        print(r.line(), flush=True)
        # the longest activities list
        await key("2")
        apane = app.main.query_one(ActivitiesPane)
        r = out["acts_end"] = Row("activities list, G", "last page by keyset")
        for _ in range(runs):
            apane.show_email(eid)
            await settled()
            await to_the_end(r, apane.table, lambda: email_activities_before(
                store, eid, before=None, limit=200))
        r.note = "(RSS: growth per jump)"
        print(r.line(), flush=True)
        store.close()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[2_000, 100_000, 1_000_000])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--big-runs", type=int, default=3, help="whole-process runs at 1M")
    ap.add_argument("--skip-tui", action="store_true")
    ap.add_argument("--only", nargs="+", choices=PARTS, help="measure only these parts")
    ap.add_argument("--tmp", type=Path, help="where the copies go (default: a temp dir)")
    args = ap.parse_args()
    random.seed(0)
    started = time.perf_counter()
    tmp = Path(tempfile.mkdtemp(prefix="jt-scale-", dir=args.tmp))
    results: dict[int, dict[str, Row]] = {}
    try:
        for n in args.sizes:
            results[n] = measure_size(n, args.runs, args.big_runs, tmp, args.skip_tui,
                                      set(args.only) if args.only else None)
            for f in tmp.glob(f"scale-{n}.db*"):
                f.unlink()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("\n== growth (median wall time; ratio to the floor in brackets)")
    keys = list(next(iter(results.values())))
    sizes = list(results)
    print("  " + f"{'what':<46}" + "".join(f"{n:>22,}" for n in sizes))
    for key in keys:
        cells = []
        for n in sizes:
            r = results[n].get(key)
            if r is None or not r.t:
                cells.append(f"{'—':>22}")
                continue
            ratio = r.ratio()
            cell = f"{med(r.t) * 1000:.1f} ms" + (f" ({ratio:.2f}×)" if ratio else "")
            cells.append(f"{cell:>22}")
        first = results[sizes[0]].get(key)
        print("  " + f"{(first.what if first else key)[:46]:<46}" + "".join(cells))
    print(f"\nwhole run {time.perf_counter() - started:.0f} s; load average"
          f" {' '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs;"
          f" this process peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f}"
          " MB")


if __name__ == "__main__":
    main()
