"""Pre-flight estimates: requests, shards and cost before a run is started."""

from core.batchfile import ShardLimits
from core.dataset import load_dataset
from core.launch import RunRequest, preflight
from core.providers.base import ModelInfo
from tests.conftest import DATASET


def make_request(limits: ShardLimits = ShardLimits(), models=("m/a", "m/b")) -> RunRequest:
    return RunRequest(
        provider="mock", models=models, grader_model="m/judge", dataset=str(DATASET), limit=100, seed=1,
        max_tokens=256, temperature=0.0, judge_max_tokens=64, poll_interval=30.0, limits=limits,
    )


def test_preflight_counts_requests_and_shards():
    questions = load_dataset(DATASET).sample(100, seed=1)
    estimate = preflight(make_request(ShardLimits(max_requests=30, max_bytes=95_000_000)), questions)
    assert estimate.questions == 100
    assert estimate.runs == 2
    assert estimate.requests == 400
    assert estimate.answer_shards == 8
    assert estimate.judge_shards_estimate == 8


def test_preflight_cost_needs_prices():
    questions = load_dataset(DATASET).sample(100, seed=1)
    assert preflight(make_request(), questions).estimated_cost is None
    assert preflight(make_request(), questions).warnings == ("no price known for m/a; cost not estimated",)

    prices = [ModelInfo(name, input_price=1.0, output_price=1.0) for name in ("m/a", "m/b", "m/judge")]
    estimate = preflight(make_request(), questions, prices)
    assert estimate.warnings == ()
    # Every token costs $1 per million before the 50% batch discount.
    assert estimate.estimated_cost == estimate.estimated_tokens / 1_000_000 * 0.5
