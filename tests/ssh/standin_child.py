"""A stand-in for the app in serve-ssh tests: a tiny full-screen terminal program.

It shows its terminal size, pid, TERM/NO_COLOR/COLORTERM and the last keys, and
reacts to keys:  q  quit (0)   x  quit with status 3   w  write a contact row to
its store (as the app writes: in a private session the first write copies it)
h  ignore SIGHUP and SIGTERM   s  start a grandchild (sleep) in its process group   f  print 20,000 numbered lines.  On a resize (SIGWINCH) it redraws at the new size.
"""

from __future__ import annotations

import os
import select
import shutil
import signal
import subprocess
import sys
import termios
import time
import tty

state = {"resized": True, "keys": "", "note": "", "grandchild": 0}


def on_winch(signum: int, frame: object) -> None:
    state["resized"] = True


def draw(db: str) -> None:
    cols, rows = shutil.get_terminal_size()  # as Textual does: COLUMNS/LINES first
    lines = [
        f"STANDIN size={cols}x{rows}",
        f"pid={os.getpid()} grandchild={state['grandchild']}",
        (
            f"TERM={os.environ.get('TERM', '-')} NO_COLOR={os.environ.get('NO_COLOR', '-')} "
            f"COLORTERM={os.environ.get('COLORTERM', '-')}"
        ),
        f"keys={state['keys'][-20:]}",
        f"note={state['note']}",
        f"db={db}",
    ]
    out = "\x1b[H\x1b[2J" + "".join(f"\x1b[{i + 1};1H{line}" for i, line in enumerate(lines))
    out += f"\x1b[{rows};1HBOTTOM row {rows}"
    os.write(1, out.encode())


def write_contact(db: str) -> None:
    """Write a contact row the way the app writes: a transaction of a pooled store
    (in a private session the pool copies the store first, see journeytui.store.pool)."""
    from pathlib import Path

    from journeytui.store.pool import SESSION_STORE_ENV, StorePool

    copy = os.environ.get(SESSION_STORE_ENV)
    pool = StorePool(db, copy_on_write=Path(copy) if copy else None)
    try:
        with pool.store() as store, store.transaction() as conn:
            conn.execute(
                "INSERT INTO contacts(email, created_at) VALUES (?, ?)",
                (f"visitor-{os.getpid()}@example.com", int(time.time())),
            )
    finally:
        pool.close()


def main() -> int:
    db = sys.argv[sys.argv.index("--db") + 1]
    signal.signal(signal.SIGWINCH, on_winch)
    saved = termios.tcgetattr(0)
    tty.setraw(0)
    os.write(1, b"\x1b[?1049h\x1b[?25l")
    try:
        while True:
            if state["resized"]:
                state["resized"] = False
                draw(db)
            try:
                ready, _, _ = select.select([0], [], [], 0.05)
            except InterruptedError:
                continue
            if not ready:
                continue
            data = os.read(0, 1024)
            if not data:
                return 0
            state["keys"] += data.decode(errors="replace").replace("\x1b", "^[")
            for ch in data.decode(errors="replace"):
                if ch == "q":
                    return 0
                if ch == "x":
                    return 3
                if ch == "w":  # a write, as the app makes it: through its StorePool
                    write_contact(db)
                    state["note"] = "wrote contact"
                if ch == "h":
                    signal.signal(signal.SIGHUP, signal.SIG_IGN)
                    signal.signal(signal.SIGTERM, signal.SIG_IGN)
                    state["note"] = "ignoring SIGHUP and SIGTERM"
                if ch == "f":  # flood: 20,000 numbered lines (~1.2 MB), then a marker
                    for start in range(0, 20000, 1000):
                        chunk = "".join(f"flood {i:06d}\r\n" for i in range(start, start + 1000))
                        os.write(1, chunk.encode())
                    os.write(1, b"FLOOD-END\r\n")
                    state["note"] = "flooded"
                if ch == "s":
                    gc = subprocess.Popen(
                        ["sleep", "60"],
                        stdin=subprocess.DEVNULL,
                        stdout=subprocess.DEVNULL,
                        stderr=subprocess.DEVNULL,
                    )
                    state["grandchild"] = gc.pid
            draw(db)
    finally:
        os.write(1, b"\x1b[?25h\x1b[?1049l")
        termios.tcsetattr(0, termios.TCSADRAIN, saved)


if __name__ == "__main__":
    sys.exit(main())
