"""A per-run lease in SQLite, so that two processes never move the same run at once.

The TUI on one SSH session and `factdeck watch` on another may both try to step a run; only the
lease holder does. A lease expires after `LEASE_SECONDS`, and one held by a dead process on this
host is taken over at once, so `kill -9` never blocks a restart.
"""

from __future__ import annotations

import os
import socket
import time
import uuid

from core.store import Store

LEASE_SECONDS = 120.0
_HOST = socket.gethostname()


def new_owner() -> str:
    """Return an owner id naming this host and process, unique for this process's lifetime."""
    return f"{_HOST}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def acquire(store: Store, run_id: str, owner: str, now: float | None = None) -> bool:
    """Take or renew the lease on `run_id`; return False when another live process holds it."""
    now = time.time() if now is None else now
    with store.transaction() as connection:
        row = connection.execute("SELECT lease_owner, lease_expires FROM runs WHERE run_id = ?", (run_id,)).fetchone()
        if row is None:
            return False
        holder, expires = row
        if holder and holder != owner and expires and expires > now and _is_alive(holder):
            return False
        connection.execute(
            "UPDATE runs SET lease_owner = ?, lease_expires = ? WHERE run_id = ?",
            (owner, now + LEASE_SECONDS, run_id),
        )
    return True


def release(store: Store, run_id: str, owner: str) -> None:
    store.execute(
        "UPDATE runs SET lease_owner = NULL, lease_expires = NULL WHERE run_id = ? AND lease_owner = ?",
        (run_id, owner),
    )


def _is_alive(owner: str) -> bool:
    """Tell whether the owning process still runs; owners on other hosts are assumed alive."""
    host, _, rest = owner.partition(":")
    pid_text = rest.partition(":")[0]
    if host != _HOST or not pid_text.isdigit():
        return True
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
