"""Import throughput: SendGrid events per second into a fresh store (median of runs).

    .venv/bin/python benchmarks/bench_import.py [--events 200000] [--runs 3] [--form ndjson]
                                                [--contacts 100000] [--compare REV]

Writes a synthetic SendGrid Event Webhook file (realistic mix: processed, delivered,
opens with some machine opens, clicks on a handful of links, bounces, drops,
unsubscribes, spam reports) into a temporary directory, then imports it into a new
store per run and prints the median events/s (whole import: read, check, sort, write,
commit) and, apart, the median time to only read and check the file.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from journeytui.importers.sendgrid import import_sendgrid, read_events
from journeytui.store import Store

T0 = 1_767_600_000
LINKS = [
    "https://www.example.com/pricing",
    "https://www.example.com/webinar/signup",
    "https://www.example.com/products/tracker",
    "https://www.example.com/whitepaper.pdf",
]


def synthetic_events(n_events: int, seed: int = 1) -> list[dict[str, object]]:
    """About *n_events* events over 10 campaigns (≈ 2.3 events per recipient)."""
    rng = random.Random(seed)
    out: list[dict[str, object]] = []
    n_recipients = max(1, n_events * 10 // 23)
    seq = 0

    i = 0

    def add(event: str, email: str, at: int, campaign: int, **extra: object) -> None:
        nonlocal seq
        seq += 1
        out.append(
            {
                "email": email,
                "timestamp": at,
                "smtp-id": f"<{seq}@ismtpd-1>",
                "event": event,
                "category": ["newsletter"],
                "marketing_campaign_id": 1000 + campaign,
                "marketing_campaign_name": f"Campaign {campaign}",
                "sg_event_id": f"ev{seq:010d}",
                # one message per recipient: every event about it carries its id
                "sg_message_id": f"msg{i:08d}x.filter0001.{i % 7}.0",
                **extra,
            }
        )

    for i in range(n_recipients):
        campaign = i % 10
        email = f"user{i // 10}@example{i % 97}.com"
        t = T0 + campaign * 86_400 + rng.randrange(600)
        r = rng.random()
        if r < 0.01:
            add("dropped", email, t, campaign, reason="Bounced Address")
            continue
        add("processed", email, t, campaign)
        if r < 0.03:
            add("bounce", email, t + 4, campaign, type="blocked" if r < 0.02 else "bounce")
            continue
        add("delivered", email, t + 2, campaign, response="250 OK")
        if rng.random() < 0.35:
            add("open", email, t + 5, campaign, sg_machine_open=True)
        if rng.random() < 0.25:
            add("open", email, t + 300 + rng.randrange(5000), campaign, sg_machine_open=False)
            if rng.random() < 0.4:
                add("click", email, t + 6000, campaign, url=rng.choice(LINKS))
        if rng.random() < 0.005:
            add("unsubscribe", email, t + 9000, campaign)
        elif rng.random() < 0.005:
            add("group_unsubscribe", email, t + 9000, campaign, asm_group_id=1 + campaign % 3)
        if rng.random() < 0.001:
            add("spamreport", email, t + 9500, campaign)
    return out[:n_events]


def contacts_csv(path: Path, n: int, seed: int = 2) -> None:
    rng = random.Random(seed)
    firsts = ["Ann", "Bob", "Cara", "Dan", "Eve", "Finn", "Gia", "Hugo", "Ines", "Jon"]
    lasts = ["Lee", "Jones", "Nunez", "Smith", "Okafor", "Muller", "Rossi", "Tanaka"]
    lists = ["Newsletter", "Webinars", "Product updates", "Offers"]
    with path.open("w", encoding="utf-8") as f:
        f.write("email,first_name,last_name,tracking_consent,lists\n")
        for i in range(n):
            subs = ";".join(rng.sample(lists, rng.randrange(3)))
            consent = "yes" if rng.random() < 0.7 else "no"
            f.write(
                f"c{i}@example{i % 53}.org,{rng.choice(firsts)},{rng.choice(lasts)},"
                f"{consent},{subs}\n"
            )


def bench_contacts(tmp: Path, n: int, runs: int) -> None:
    from journeytui.importers.contacts_csv import import_contacts

    path = tmp / "contacts.csv"
    contacts_csv(path, n)
    times = []
    for run in range(runs):
        store = Store.create(tmp / f"contacts{run}.db")
        t = time.perf_counter()
        import_contacts(store, path)
        times.append(time.perf_counter() - t)
        store.close()
    med = statistics.median(times)
    print(f"contacts CSV, {n} rows: median {med * 1000:.0f} ms -> {n / med:,.0f} rows/s")


_CHILD = """
import sys, time
from pathlib import Path
from journeytui.importers.sendgrid import import_sendgrid
from journeytui.store import Store
store = Store.create(Path(sys.argv[2]))
t, c = time.perf_counter(), time.process_time()
import_sendgrid(store, [Path(sys.argv[1])])
print(time.perf_counter() - t, time.process_time() - c, store.count("sends"))
store.close()
"""


def compare(rev: str, path: Path, tmp: Path, runs: int, n: int) -> None:
    """Import *path* with the code of git revision *rev* and with this tree (its code as
    at the start), alternately, each run in a fresh process and store; print both
    medians and the ratio."""
    root = Path(__file__).resolve().parent.parent
    old_tree = tmp / "old-tree"
    subprocess.run(
        ["git", "-C", str(root), "worktree", "add", "--detach", str(old_tree), rev],
        check=True, capture_output=True,
    )
    try:
        trees = {"old": old_tree / "src", "new": tmp / "new-src"}
        wall: dict[str, list[float]] = {"old": [], "new": []}
        cpu: dict[str, list[float]] = {"old": [], "new": []}
        sends: dict[str, int] = {}
        for run in range(runs):
            for name in ("old", "new") if run % 2 == 0 else ("new", "old"):
                db = tmp / f"{name}{run}.db"
                out = subprocess.run(
                    [sys.executable, "-c", _CHILD, str(path), str(db)],
                    env={**os.environ, "PYTHONPATH": str(trees[name])},
                    check=True, capture_output=True, text=True, cwd=tmp,
                ).stdout.split()
                wall[name].append(float(out[0]))
                cpu[name].append(float(out[1]))
                sends[name] = int(out[2])
                db.unlink()
        for name in ("old", "new"):
            w, c = statistics.median(wall[name]), statistics.median(cpu[name])
            print(f"{name} ({rev if name == 'old' else 'this tree'}): median {w * 1000:6.0f} ms"
                  f" -> {n / w:,.0f} events/s wall, {n / c:,.0f} events/s CPU"
                  f" ({sends[name]:,} sends rows)")
        ratio = statistics.median(wall["old"]) / statistics.median(wall["new"])
        cratio = statistics.median(cpu["old"]) / statistics.median(cpu["new"])
        print(f"new/old throughput: {ratio:.2f} × wall, {cratio:.2f} × CPU (target ≥ 0.8)")
    finally:
        subprocess.run(
            ["git", "-C", str(root), "worktree", "remove", "--force", str(old_tree)],
            check=False, capture_output=True,
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=200_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--form", choices=["ndjson", "array"], default="ndjson")
    ap.add_argument("--contacts", type=int, default=0, help="also time a contacts CSV of N rows")
    ap.add_argument(
        "--compare", metavar="REV",
        help="also import the same file with the code of git revision REV (a temporary "
        "worktree), alternating runs in fresh processes, and print both medians",
    )
    ap.add_argument(
        "--without", metavar="KINDS", default="",
        help="leave these event types out of the file (comma-separated), e.g. "
        "'delivered,deferred' to time only the events an older importer applied too",
    )
    args = ap.parse_args()
    if args.contacts:
        with tempfile.TemporaryDirectory() as tmp:
            bench_contacts(Path(tmp), args.contacts, args.runs)

    with tempfile.TemporaryDirectory() as tmp:
        if args.compare:  # this tree's code as it is now: later edits do not mix in
            shutil.copytree(Path(__file__).resolve().parent.parent / "src",
                            Path(tmp) / "new-src",
                            ignore=shutil.ignore_patterns("__pycache__"))
        events = synthetic_events(args.events)
        if args.without:
            left_out = set(args.without.split(","))
            events = [e for e in events if e["event"] not in left_out]
        path = Path(tmp) / ("events.ndjson" if args.form == "ndjson" else "events.json")
        with path.open("w", encoding="utf-8") as f:
            if args.form == "ndjson":
                for e in events:
                    f.write(json.dumps(e) + "\n")
            else:
                json.dump(events, f)
        size_mb = path.stat().st_size / 1e6
        print(f"{len(events)} events, {args.form}, {size_mb:.1f} MB, {args.runs} runs")

        read_s = []
        for _ in range(args.runs):
            t = time.perf_counter()
            n = sum(1 for _ in read_events(path))
            read_s.append(time.perf_counter() - t)
        assert n == len(events)

        import_s, cpu_s = [], []
        for run in range(args.runs):
            store = Store.create(Path(tmp) / f"run{run}.db")
            t, c = time.perf_counter(), time.process_time()
            report = import_sendgrid(store, [path])
            import_s.append(time.perf_counter() - t)
            cpu_s.append(time.process_time() - c)
            store.close()
        med, cpu = statistics.median(import_s), statistics.median(cpu_s)
        n = len(events)
        print(f"read+parse only:   median {statistics.median(read_s) * 1000:8.0f} ms")
        print(f"import (one txn):  median {med * 1000:8.0f} ms  ->  {n / med:,.0f} events/s")
        print(
            f"  CPU time of this process: median {cpu * 1000:.0f} ms -> {n / cpu:,.0f} events/s"
            " (wall time suffers when other work shares the cores)"
        )
        if args.compare:
            compare(args.compare, path, Path(tmp), args.runs, n)
        applied = sum(report.added[k] for k in ("sent", "opens", "machine_opens", "clicks"))
        print(
            f"  (last run: {report.added['sent']} sent, {report.added['opens']} opens, "
            f"{report.added['machine_opens']} machine opens, {report.added['clicks']} clicks, "
            f"{report.added['new_contacts']} new contacts; ignored {report.ignored}; "
            f"{applied} main events applied)"
        )


if __name__ == "__main__":
    main()
