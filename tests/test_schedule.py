"""Pure time decisions: backoff, the error text on a job row, ETA and stalled jobs."""

from core.schedule import append_progress, backoff_delay, describe_error, eta_seconds, is_stalled


def test_backoff_prefers_retry_after_and_doubles_otherwise():
    assert backoff_delay("rate_limited", 1, 30, 40) == 40
    assert backoff_delay("rate_limited", 1, 30, None) == 30
    assert backoff_delay("server", 3, 30, None) == 120
    assert backoff_delay("server", 20, 30, None) == 600
    assert backoff_delay("auth", 1, 30, None) == 900


def test_error_text_for_rows():
    assert describe_error("rate_limited", "429", 40, 0) == "rate limited, retrying in 40 s"
    assert describe_error("server", "Together returned 503", 60, 0) == "Together returned 503 (retrying in 60 s)"
    assert describe_error("network", "x", 30, 0).startswith("offline since ")


def test_eta_from_trend():
    assert eta_seconds([], 100) is None
    assert eta_seconds([[0, 10.0]], 100) is None
    assert eta_seconds([[0, 10.0], [60, 40.0]], 60) == 120.0


def test_stalled_after_no_change():
    history = append_progress([], 0, 10.0)
    history = append_progress(history, 50, 10.0)
    assert history == [[0, 10.0]]
    assert is_stalled(history, 1799, 1800) is False
    assert is_stalled(history, 1800, 1800) is True
    assert is_stalled(append_progress(history, 1000, 20.0), 1800, 1800) is False
