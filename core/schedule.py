"""Pure decisions about time: when to poll again after an error, ETA, and stalled jobs."""

from __future__ import annotations

import time

MAX_BACKOFF_SECONDS = 600.0
AUTH_RETRY_SECONDS = 900.0


def backoff_delay(kind: str, error_count: int, poll_interval: float, retry_after: float | None) -> float:
    """Seconds to wait before the next call after `error_count` consecutive errors of `kind`.

    A server's Retry-After wins; otherwise the wait doubles from the poll interval up to ten
    minutes. A rejected key waits fifteen minutes, because retrying sooner cannot help.
    """
    if kind == "auth":
        return AUTH_RETRY_SECONDS
    if retry_after is not None and retry_after >= 0:
        return min(retry_after, MAX_BACKOFF_SECONDS)
    return min(max(poll_interval, 1.0) * 2 ** max(error_count - 1, 0), MAX_BACKOFF_SECONDS)


def describe_error(kind: str, message: str, delay: float, since: float) -> str:
    """One line for a job's row: what went wrong and when the next try is."""
    if kind == "rate_limited":
        return f"rate limited, retrying in {delay:.0f} s"
    if kind in ("network", "timeout"):
        return f"offline since {time.strftime('%H:%M', time.localtime(since))}, retrying in {delay:.0f} s"
    if kind == "auth":
        return message
    return f"{message} (retrying in {delay:.0f} s)"


def eta_seconds(history: list[list[float]], now: float) -> float | None:
    """Estimate seconds until 100% from (time, progress) samples, using the recent trend.

    Returns None until progress has moved between two samples.
    """
    if len(history) < 2:
        return None
    window = [sample for sample in history if sample[0] >= now - 3600] or history
    (t0, p0), (t1, p1) = window[0], window[-1]
    if p1 <= p0 or t1 <= t0:
        return None
    rate = (p1 - p0) / (t1 - t0)
    return max(0.0, (100.0 - p1) / rate)


def is_stalled(history: list[list[float]], now: float, stall_seconds: float) -> bool:
    """True when progress has not changed for `stall_seconds`.

    Samples are only recorded when progress changes, so the last sample's time is when it moved.
    """
    return bool(history) and now - history[-1][0] >= stall_seconds


def append_progress(history: list[list[float]], now: float, progress: float | None, keep: int = 50) -> list[list[float]]:
    """Add a sample when progress changed (or none exists yet), keeping the last `keep` samples."""
    if progress is None:
        return history
    if history and history[-1][1] == progress:
        return history
    return (history + [[now, progress]])[-keep:]
