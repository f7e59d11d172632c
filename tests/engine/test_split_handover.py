"""A split evaluation whose worker ends right after answering a range: the range it
answered is written, and the one that could not be handed to it is replayed by the
evaluating process (the same rows as in one process)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from test_evaluation_split import demo, in_process
from test_evaluation_split import (
    test_a_worker_that_dies_leaves_its_ranges_to_the_evaluation as _evaluated_with_worker,
)

__all__ = ["demo", "in_process"]  # (the fixtures, shared with the split tests)

# A real worker that stops reading its requests before it answers its first range,
# then ends: handing it the next range fails (its pipe has no reader) just after its
# answer was received.
_ENDS_AFTER_ONE_RANGE = (
    "import os, pickle, sys\n"
    "from journeytui.domain import replay_workers as rw\n"
    "dump, answers = pickle.dump, []\n"
    "def dump_then_end(obj, f, *args):\n"
    "    answers.append(1)\n"
    "    if len(answers) == 2:\n"
    "        os.close(0)\n"
    "        dump(obj, f, *args)\n"
    "        f.flush()\n"
    "        os._exit(0)\n"
    "    dump(obj, f, *args)\n"
    "pickle.dump = dump_then_end\n"
    "rw._serve(sys.stdin.buffer, sys.stdout.buffer)\n"
)


def test_a_range_answered_before_its_worker_ended_is_kept(
    demo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    in_process: dict[str, list[tuple[Any, ...]]],
) -> None:
    # (two such workers, many ranges: the same rows as the evaluation in one process)
    _evaluated_with_worker(demo, tmp_path, monkeypatch, in_process, _ENDS_AFTER_ONE_RANGE)
