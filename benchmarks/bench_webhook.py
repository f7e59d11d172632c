"""serve-webhook throughput and response time, with the app open on the store.

    .venv/bin/python benchmarks/bench_webhook.py [--contacts 100000] [--senders 4]
        [--batch 500] [--batches 25] [--rate 5000] [--runs 5]
        [--base /tmp/base-webhook/src] [--no-tui]

Copies the cached demo store (benchmarks/stores.py; each run writes into its own copy,
thrown away), opens the real app on the copy in tmux (its once-a-second
``data_version`` poll and the refreshes it triggers are part of the measure), starts
``journeytui serve-webhook`` on it in a subprocess (verification on, a key pair made
here), and lets *senders* threads each POST *batches* signed bodies of *batch* events
(the synthetic mix of bench_import.py, every event new) on a keep-alive connection.

The receiver's CPU time per 1,000 events (from /proc, the timed part only) is printed
too: on a machine shared with other work it says more than the wall-clock figures.

Two loads per run:

* **as fast as answered** (closed loop): each sender posts its next batch as soon as
  the last was answered.  Gives the sustained events/s (all events / wall time from
  the first request to the last answer).  With every sender always waiting, the mean
  response time is senders × batch / throughput (Little's law), so this p99 says how
  fast the receiver is, not how long a provider waits at a given load.
* **offered at --rate events/s** (open loop): each sender starts a batch on a fixed
  schedule (or as soon as its last answer came, if late).  Gives the response time a
  provider sees at that load; events/s is the load kept up with.

With ``--base SRC`` (a checkout's ``src`` of the previous design, e.g. a worktree of
HEAD before a change: ``git worktree add /tmp/base-webhook HEAD``) every run measures
both designs one after the other on fresh copies, and the figures are printed side by
side (medians of the runs) with the ratios.  Anything but 200 is a failure.
"""

from __future__ import annotations

import argparse
import base64
import http.client
import json
import os
import re
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_import import synthetic_events
from stores import store_path


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    k = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


@dataclass
class Run:
    events_s: float
    p50_ms: float
    p99_ms: float
    max_ms: float
    statuses: dict[int, int]
    transactions: int | None
    parts: dict[str, float]  # median ms per part of a request, from the log lines
    cpu_ms: float  # the receiver's CPU time per 1,000 events acknowledged


class App:
    """The real app open on *db* in a detached tmux session."""

    def __init__(self, db: Path, name: str, src: Path | None) -> None:
        self.name = name
        env = f"PYTHONPATH={shlex.quote(str(src))} " if src is not None else ""
        # on a crash the session stays, showing the error
        subprocess.run(["tmux", "new-session", "-d", "-s", name, "-x", "120", "-y", "40",
                        f"{env}{shlex.quote(sys.executable)} -m journeytui --db "
                        f"{shlex.quote(str(db))} || sleep 3600"], check=True)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:  # waiting for the first screen, not a guess
            screen = self.screen()
            if "Emails" in screen and "contacts" in screen.lower():
                return
            time.sleep(0.2)
        raise RuntimeError(f"the app did not show its first screen:\n{self.screen()}")

    def screen(self) -> str:
        out = subprocess.run(["tmux", "capture-pane", "-p", "-t", self.name],
                             capture_output=True, text=True)
        return out.stdout

    def close(self) -> None:
        subprocess.run(["tmux", "kill-session", "-t", self.name], capture_output=True)


def serve(db: Path, public: str, src: Path | None
          ) -> tuple[subprocess.Popen[str], int, list[str], threading.Thread]:
    env = dict(os.environ)
    if src is not None:
        env["PYTHONPATH"] = str(src)
    proc = subprocess.Popen(
        [sys.executable, "-m", "journeytui", "serve-webhook", "--db", str(db),
         "--sendgrid-key", public, "--port", "0"],
        stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, env=env,
    )
    assert proc.stderr is not None
    log: list[str] = []
    for line in proc.stderr:
        log.append(line)
        m = re.search(r"listening on http://127\.0\.0\.1:(\d+)", line)
        if m:
            drain = threading.Thread(target=log.extend, args=(proc.stderr,), daemon=True)
            drain.start()
            return proc, int(m.group(1)), log, drain
    raise RuntimeError("the receiver did not start:\n" + "".join(log))


def one_run(master: Path, tmp: Path, src: Path | None, bodies: list[bytes],
            private: ec.EllipticCurvePrivateKey, public: str, senders: int, rate: float,
            tui: bool, tag: str) -> Run:
    db = tmp / "run.db"
    for f in tmp.glob("run.db*"):
        f.unlink()
    shutil.copy(master, db)
    # The app of the same checkout as the receiver (a design may add to the schema,
    # which the other cannot open); it opens the store first (an older cached schema
    # is upgraded then, before the receiver starts and before anything is timed).
    app = App(db, f"bench-webhook-{os.getpid()}-{tag}", src) if tui else None
    try:
        proc, port, log, drain = serve(db, public, src)
        times: list[float] = []
        statuses: dict[int, int] = {}
        lock = threading.Lock()
        batch = len(json.loads(bodies[0]))

        def sender(k: int) -> None:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
            interval = senders * batch / rate if rate else 0.0
            due = begin + k * interval / senders
            for body in bodies[k::senders]:
                if interval:
                    wait = due - time.perf_counter()
                    if wait > 0:
                        time.sleep(wait)  # pacing the offered load, not a timing guess
                    due += interval
                ts = str(int(time.time()))
                sig = base64.b64encode(private.sign(ts.encode() + body,
                                                    ec.ECDSA(hashes.SHA256()))).decode()
                started = time.perf_counter()
                conn.request("POST", "/sendgrid", body=body, headers={
                    "Content-Type": "application/json",
                    "X-Twilio-Email-Event-Webhook-Timestamp": ts,
                    "X-Twilio-Email-Event-Webhook-Signature": sig,
                })
                resp = conn.getresponse()
                resp.read()
                elapsed = time.perf_counter() - started
                with lock:
                    times.append(elapsed)
                    statuses[resp.status] = statuses.get(resp.status, 0) + 1
            conn.close()

        # One small request first, not timed: the receiver's first import loads modules
        # and may rebuild kept figures (after a schema upgrade): a start-up cost, not the
        # steady state under load that this measures.
        warm = json.dumps([{**json.loads(bodies[0])[0], "sg_event_id": f"warm-{tag}"}]).encode()
        ts = str(int(time.time()))
        sig = base64.b64encode(private.sign(ts.encode() + warm, ec.ECDSA(hashes.SHA256())))
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
        conn.request("POST", "/sendgrid", body=warm, headers={
            "Content-Type": "application/json",
            "X-Twilio-Email-Event-Webhook-Timestamp": ts,
            "X-Twilio-Email-Event-Webhook-Signature": sig.decode()})
        first = conn.getresponse()
        first.read()
        conn.close()
        if first.status != 200:
            raise RuntimeError(f"the warm-up request got {first.status}")
        threads = [threading.Thread(target=sender, args=(k,)) for k in range(senders)]
        cpu_before = cpu_seconds(proc.pid)
        begin = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - begin
        cpu = cpu_seconds(proc.pid) - cpu_before
        proc.terminate()
        proc.wait(timeout=120)
        drain.join(timeout=30)
    finally:  # also when stopped (SIGTERM is made an exit in main)
        if "proc" in locals() and proc.poll() is None:
            proc.terminate()
            proc.wait(timeout=120)
        if app is not None:
            app.close()
    grouped = [ln for ln in log if "POST /sendgrid 200" in ln][1:]  # not the warm-up
    # a request committed alone logs "sendgrid: N events"; one of a group of k names k-1
    # others: the number of transactions is sum over requests of 1/k
    tx = 0.0
    for ln in grouped:
        m = re.search(r"with ([\d,]+) other request", ln)
        tx += 1 / (int(m.group(1).replace(",", "")) + 1) if m else 1
    parts: dict[str, list[float]] = {}
    for ln in grouped:  # "(verify+read 3, queue 120, lock 0, import 300, commit 2 ms)"
        m = re.search(r"\(([a-z+]+ \d+(?:, [a-z+]+ \d+)*) ms\)", ln)
        if m:
            for part in m.group(1).split(", "):
                name, ms = part.rsplit(" ", 1)
                parts.setdefault(name, []).append(float(ms))
    ok = statuses.get(200, 0) * batch
    return Run(ok / wall, statistics.median(times) * 1000, percentile(times, 99) * 1000,
               max(times) * 1000, statuses, round(tx) if grouped else None,
               {k: statistics.median(v) for k, v in parts.items()},
               cpu * 1000 / (ok / 1000) if ok else 0.0)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--contacts", type=int, default=100_000)
    ap.add_argument("--senders", type=int, default=4)
    ap.add_argument("--batch", type=int, default=500)
    ap.add_argument("--batches", type=int, default=25, help="batches per sender")
    ap.add_argument("--rate", type=float, default=5000,
                    help="offered load of the paced runs, events/s over all senders "
                    "(0: no paced runs)")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--base", type=Path, default=None,
                    help="src directory of the previous design, measured side by side")
    ap.add_argument("--no-tui", action="store_true", help="do not open the app on the store")
    args = ap.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # clean up what was started
    if args.base is not None and not (args.base / "journeytui").is_dir():
        ap.error(f"--base {args.base}: no journeytui package there")

    private = ec.generate_private_key(ec.SECP256R1())
    public = base64.b64encode(private.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)).decode()

    total = args.senders * args.batches * args.batch
    evs = synthetic_events(int(total * 1.05), seed=7)[:total]
    for i, ev in enumerate(evs):  # ids new to any store
        ev["sg_event_id"] = f"bench-webhook-{i}"
    bodies = [
        json.dumps(evs[i : i + args.batch], separators=(",", ":")).encode() + b"\r\n"
        for i in range(0, total, args.batch)
    ]

    source = store_path(args.contacts)
    designs: list[tuple[str, Path | None]] = [("this", None)]
    if args.base is not None:
        designs.insert(0, ("previous", args.base))
    loads = [("as fast as answered", 0.0)]
    if args.rate:
        loads.append((f"offered {args.rate:,.0f} ev/s", args.rate))
    results: dict[tuple[str, str], list[Run]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-webhook-") as tmp_name:
        tmp = Path(tmp_name)
        master = tmp / "master.db"
        shutil.copy(source, master)
        for r in range(args.runs):
            for load, rate in loads:
                for name, src in designs:
                    run = one_run(master, tmp, src, bodies, private, public, args.senders,
                                  rate, not args.no_tui, f"{r}-{name}-{rate:.0f}")
                    results.setdefault((load, name), []).append(run)
                    print(f"run {r + 1} {load:>22} {name:>8}: {run.events_s:7,.0f} ev/s, "
                          f"p50 {run.p50_ms:5,.0f} ms, p99 {run.p99_ms:5,.0f} ms, "
                          f"CPU {run.cpu_ms:4,.0f} ms/1k events, "
                          f"transactions {run.transactions}, statuses {run.statuses}",
                          file=sys.stderr, flush=True)

    print(f"store: {args.contacts:,} contacts ({source.name}); {args.senders} senders × "
          f"{args.batches} batches of {args.batch} signed events = {total:,} events per run; "
          f"app {'not ' if args.no_tui else ''}open on the store; medians of {args.runs} runs")
    failed = False
    for load, _ in loads:
        print(f"\n{load}:")
        print(f"  {'design':<10} {'events/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} "
              f"{'transactions':>13} {'CPU ms/1k ev':>13}")
        row: dict[str, tuple[float, float, float, float]] = {}
        for name, _ in designs:
            runs = results[(load, name)]
            failed |= any(set(r.statuses) != {200} for r in runs)
            eps = statistics.median(r.events_s for r in runs)
            p50 = statistics.median(r.p50_ms for r in runs)
            p99 = statistics.median(r.p99_ms for r in runs)
            mx = statistics.median(r.max_ms for r in runs)
            txs = [r.transactions for r in runs if r.transactions is not None]
            tx = f"{statistics.median(txs):,.0f}" if txs else "?"
            cpu = statistics.median(r.cpu_ms for r in runs)
            row[name] = (eps, p50, p99, cpu)
            print(f"  {name:<10} {eps:9,.0f} {p50:8,.0f} {p99:8,.0f} {mx:8,.0f} {tx:>13} "
                  f"{cpu:13,.0f}")
        split = [r.parts for r in results[(load, "this")] if r.parts]
        if split:
            names = list(split[0])
            print("  where a request's time goes (this design, ms, medians): " + ", ".join(
                f"{k} {statistics.median(p.get(k, 0) for p in split):,.0f}" for k in names))
        if "previous" in row:
            (e0, a0, b0, c0), (e1, a1, b1, c1) = row["previous"], row["this"]
            print(f"  {'ratio':<10} {e1 / e0:8.2f}× {a0 / a1:7.2f}× {b0 / b1:7.2f}× "
                  f"{'':>8} {'':>13} {c0 / c1:12.2f}×  (events/s this/previous; times and "
                  "CPU previous/this)")
    print("\ntarget: ≥ 5,000 events/s with p99 ≤ 250 ms")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
