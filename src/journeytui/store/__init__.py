"""The SQLite store: schema, migrations, transactions and the activity recorder.

Plain Python: never imports textual.
"""

from journeytui.store.db import DEFAULT_DB, Store, StoreError
from journeytui.store.recorder import ContactRef, Recorder, recipient_token
from journeytui.store.schema import SCHEMA_VERSION

__all__ = [
    "DEFAULT_DB",
    "SCHEMA_VERSION",
    "ContactRef",
    "Recorder",
    "Store",
    "StoreError",
    "recipient_token",
]
