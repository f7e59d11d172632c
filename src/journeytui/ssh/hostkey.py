"""The server's host key: generated on first start, then kept."""

from __future__ import annotations

import os
from pathlib import Path

import asyncssh

from journeytui.errors import UserError


def load_or_create_host_key(path: Path) -> tuple[asyncssh.SSHKey, bool]:
    """Return the host key at *path*, generating an Ed25519 key there if it is missing.

    The second value says whether the key was just made.  The file is written with
    mode 0600, in a directory made 0700 if it did not exist.
    """
    if path.exists():
        try:
            return asyncssh.read_private_key(path), False
        except (OSError, asyncssh.KeyImportError, ValueError) as exc:
            raise UserError(
                f"{path}: cannot read the SSH host key ({exc}). Fix or remove the file "
                "(a new key is made when it is missing), or give another --host-key FILE."
            ) from None
    key = asyncssh.generate_private_key("ssh-ed25519", comment="journeytui serve-ssh")
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(key.export_private_key())
    except FileExistsError:  # another server made it just now: use that one
        return load_or_create_host_key(path)
    except OSError as exc:
        raise UserError(
            f"{path}: cannot write a new SSH host key ({exc.strerror}); "
            "give --host-key FILE in a writable place."
        ) from None
    return key, True
