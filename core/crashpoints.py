"""Kill points for the crash-recovery tests; they do nothing unless `FACTDECK_TEST_CRASH_AT` is set.

With `FACTDECK_TEST_CRASH_AT=after_create` the process sends itself SIGKILL right after the
provider has created a batch and before the store records it, the way `kill -9` or a power cut
would. Tests use this to prove that a restarted process finishes the run with nothing submitted
twice. No user-facing setting sets the variable.
"""

from __future__ import annotations

import os
import signal

ENV_VARIABLE = "FACTDECK_TEST_CRASH_AT"

AFTER_UPLOAD = "after_upload"
AFTER_CREATE = "after_create"
AFTER_JUDGE_CREATE = "after_judge_create"
DURING_POLL = "during_poll"
DURING_DOWNLOAD = "during_download"
DURING_INGEST = "during_ingest"
POINTS = (AFTER_UPLOAD, AFTER_CREATE, DURING_POLL, DURING_DOWNLOAD, DURING_INGEST, AFTER_JUDGE_CREATE)


def crash_point(name: str) -> None:
    """Kill this process at once with SIGKILL when `FACTDECK_TEST_CRASH_AT` names this point."""
    if os.environ.get(ENV_VARIABLE) == name:
        os.kill(os.getpid(), signal.SIGKILL)
