"""serve-webhook throughput: signed SendGrid batches from concurrent senders.

    .venv/bin/python benchmarks/bench_webhook.py [--contacts 100000] [--senders 4]
                                                 [--batch 500] [--batches 5]

Copies the cached demo store (benchmarks/stores.py; the copy is thrown away), starts
`journeytui serve-webhook` on it in a subprocess (verification on, a key pair made
here), and lets *senders* threads each POST *batches* signed bodies of *batch* events
(the synthetic mix of bench_import.py, every event new) one after the other on a
keep-alive connection.  Prints the sustained events/s (all events / wall time from
the first request to the last answer) and the p50/p99 response time, and the
statuses (anything but 200 is a failure).
"""

from __future__ import annotations

import argparse
import base64
import http.client
import json
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_import import synthetic_events
from stores import store_path


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    k = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--contacts", type=int, default=100_000)
    ap.add_argument("--senders", type=int, default=4)
    ap.add_argument("--batch", type=int, default=500)
    ap.add_argument("--batches", type=int, default=5, help="batches per sender")
    ap.add_argument("--rate", type=float, default=0,
                    help="offered load in events/s over all senders (each sender starts a "
                    "batch on a fixed schedule, or as soon as its last answer came if late); "
                    "0: each sends its next batch as soon as the last is answered")
    args = ap.parse_args()

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
    with tempfile.TemporaryDirectory(prefix="bench-webhook-") as tmp:
        db = Path(tmp) / "store.db"
        shutil.copy(source, db)
        proc = subprocess.Popen(
            [sys.executable, "-m", "journeytui", "serve-webhook", "--db", str(db),
             "--sendgrid-key", public, "--port", "0"],
            stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True,
        )
        assert proc.stderr is not None
        port = None
        log: list[str] = []
        for line in proc.stderr:
            log.append(line)
            m = re.search(r"listening on http://127\.0\.0\.1:(\d+)", line)
            if m:
                port = int(m.group(1))
                break
        if port is None:
            print("".join(log), file=sys.stderr)
            return 1
        drain = threading.Thread(target=lambda: log.extend(proc.stderr), daemon=True)
        drain.start()

        times: list[float] = []
        statuses: dict[int, int] = {}
        lock = threading.Lock()

        def sender(k: int) -> None:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
            interval = args.senders * args.batch / args.rate if args.rate else 0.0
            due = begin + k * interval / args.senders
            for body in bodies[k :: args.senders]:
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

        threads = [threading.Thread(target=sender, args=(k,)) for k in range(args.senders)]
        begin = started = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - started
        proc.terminate()
        proc.wait(timeout=120)

    ok = statuses.get(200, 0) * args.batch
    print(f"store: {args.contacts:,} contacts ({source.name}); {args.senders} senders × "
          f"{args.batches} batches of {args.batch} signed events = {total:,} events, "
          + (f"offered at {args.rate:,.0f} events/s" if args.rate else "each as fast as answered"))
    print(f"statuses: {dict(sorted(statuses.items()))}")
    print(f"sustained: {ok / wall:,.0f} events/s ({ok:,} events acknowledged in {wall:.1f} s)")
    print(f"response time: p50 {statistics.median(times) * 1000:,.0f} ms, "
          f"p99 {percentile(times, 99) * 1000:,.0f} ms, max {max(times) * 1000:,.0f} ms")
    return 0 if statuses.get(200, 0) == len(bodies) else 1


if __name__ == "__main__":
    raise SystemExit(main())
