"""The SQLite store: schema, migrations, transactions and the activity recorder.

Plain Python: never imports textual.  The recorder is imported on first use (PEP 562),
so a command that only reads (``journeytui stats``) does not load it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from journeytui.store.db import DEFAULT_DB, Store, StoreError
from journeytui.store.schema import SCHEMA_VERSION

if TYPE_CHECKING:
    from journeytui.store.recorder import ContactRef, Recorder, recipient_token

__all__ = [
    "DEFAULT_DB",
    "SCHEMA_VERSION",
    "ContactRef",
    "Recorder",
    "Store",
    "StoreError",
    "recipient_token",
]

_RECORDER_NAMES = {"ContactRef", "Recorder", "recipient_token"}


def __getattr__(name: str) -> Any:
    if name in _RECORDER_NAMES:
        from journeytui.store import recorder

        return getattr(recorder, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
