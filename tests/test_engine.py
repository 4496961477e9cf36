"""Engine behaviour around the edges: orphan batches, failed database writes, ingesting twice, and
cancelling while a create may have landed. Runs against the stand-in through the real SDK."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from core.errors import StoreError
from core.ingest import ingest_job
from core.orphans import OrphanError, adopt, find_orphans, ignore
from core.runs import run_settings
from tests.conftest import run_cli
from tests.faultkit import assert_nothing_sent_twice, replay_grades, start_run
from tests.standin import HttpFault

CREATE = r"/v1/batches"


def reversed_copy(path, target):
    """Write the same requests in reverse order: same custom_ids, other bytes, so another file id."""
    lines = path.read_bytes().splitlines(keepends=True)
    target.write_bytes(b"".join(reversed(lines)))
    return target


def test_orphan_of_crashed_create_adopted_by_file_id(home, standin):
    harness = start_run(standin)
    harness.step()
    job = harness.store.jobs(harness.run_id)[0]
    # As if the process died between the create and its record.
    harness.store.update_job(job["job_id"], batch_id=None, stage="submitting", status=None)

    [orphan] = find_orphans(harness.store, harness.engine.provider_for("together"))
    assert (orphan.batch.batch_id, orphan.job_id, orphan.run_id) == (job["batch_id"], job["job_id"], harness.run_id)
    assert adopt(harness.store, harness.engine.provider_for("together"), job["batch_id"]) == job["job_id"]
    assert find_orphans(harness.store, harness.engine.provider_for("together")) == []

    harness.drive()
    assert harness.grades() == replay_grades(harness, set())
    assert_nothing_sent_twice(harness)


def test_orphan_adopted_by_custom_ids(home, standin, tmp_path):
    """A batch made from another file with this job's custom_ids is attached to the waiting job."""
    standin.add_fault(HttpFault(CREATE, method="POST", status=500))
    harness = start_run(standin)
    harness.step()
    job = harness.store.jobs(harness.run_id)[0]
    assert (job["stage"], job["batch_id"]) == ("submitting", None)
    provider = harness.engine.provider_for("together")
    other_file = provider.upload(reversed_copy(Path(job["input_path"]), tmp_path / "copy.jsonl"))
    batch = provider.create_batch(other_file, "unused")

    [orphan] = find_orphans(harness.store, provider)
    assert (orphan.batch.batch_id, orphan.job_id) == (batch.batch_id, None)
    assert adopt(harness.store, provider, batch.batch_id) == job["job_id"]
    assert harness.store.job(job["job_id"])["input_file_id"] == other_file

    harness.drive()
    assert harness.grades() == replay_grades(harness, set())
    assert_nothing_sent_twice(harness)


def test_foreign_orphan_cannot_be_adopted(home, standin, tmp_path):
    harness = start_run(standin)
    provider = harness.engine.provider_for("together")
    foreign = tmp_path / "foreign.jsonl"
    foreign.write_text(json.dumps({"custom_id": "q1", "body": {"model": "m", "messages": [{"role": "user", "content": "hi"}]}}) + "\n")
    batch = provider.create_batch(provider.upload(foreign), "m")

    with pytest.raises(OrphanError) as raised:
        adopt(harness.store, provider, batch.batch_id)
    assert str(raised.value) == (
        f"batch {batch.batch_id} matches no job waiting for a batch, so it cannot be adopted; "
        f"`factdeck orphans ignore {batch.batch_id}` hides it"
    )
    ignore(harness.store, batch.batch_id)
    assert find_orphans(harness.store, provider) == []


def test_status_lists_orphans_and_ignore_hides(home, standin, tmp_path):
    harness = start_run(standin)
    provider = harness.engine.provider_for("together")
    foreign = tmp_path / "foreign.jsonl"
    foreign.write_text(json.dumps({"custom_id": "q1", "body": {"model": "m", "messages": [{"role": "user", "content": "hi"}]}}) + "\n")
    batch = provider.create_batch(provider.upload(foreign), "m")

    status = run_cli(["status"], home, standin)
    assert status.returncode == 0, status.stderr
    assert re.search(rf"^    {batch.batch_id} +(VALIDATING|IN_PROGRESS|COMPLETED) +input {batch.input_file_id}$", status.stdout, re.M)
    status_json = run_cli(["status", "--json"], home, standin)
    assert [run["run_id"] for run in status_json.json()] == [harness.run_id]
    assert "1 batch(es) on the account belong to no run; `factdeck orphans` lists them" in status_json.stderr

    rejected = run_cli(["orphans", "adopt", batch.batch_id], home, standin)
    assert rejected.returncode == 1
    assert rejected.stderr.strip().splitlines()[-1].startswith(f"factdeck: error: batch {batch.batch_id} matches no job")
    assert run_cli(["orphans", "ignore", batch.batch_id], home, standin).returncode == 0
    listing = run_cli(["orphans"], home, standin)
    assert listing.stdout == "no orphan batches: every batch on the account belongs to a run or was ignored\n"


def test_failed_write_rolls_back_ingest(home, standin):
    """A write that fails mid-ingest (disk full) changes nothing; the next step ingests it once."""
    harness = start_run(standin)
    harness.store.connection.execute(
        # Fires on the questions, after the same transaction already marked the job ingested.
        """CREATE TEMP TRIGGER disk_full BEFORE UPDATE OF state ON questions WHEN NEW.state = 'judge_pending'
           BEGIN SELECT RAISE(FAIL, 'database or disk is full'); END"""
    )

    with pytest.raises(StoreError) as raised:
        harness.drive(until=lambda: False, timeout=10)
    assert str(raised.value) == f"{harness.store.path}: write failed and was rolled back: database or disk is full"
    states = {row["state"] for row in harness.store.questions(harness.run_id)}
    assert states == {"answering"}
    assert harness.store.jobs(harness.run_id)[0]["stage"] == "downloading"

    harness.store.connection.execute("DROP TRIGGER disk_full")
    harness.drive()
    assert harness.grades() == replay_grades(harness, set())
    assert_nothing_sent_twice(harness)


def test_ingest_twice_counts_once(home, standin):
    harness = start_run(standin)
    harness.drive(until=lambda: [job["stage"] for job in harness.store.jobs(harness.run_id)][:1] == ["ingested"])
    job = harness.store.jobs(harness.run_id)[0]
    before = [tuple(row) for row in harness.store.questions(harness.run_id)]
    folder = harness.workspace.paths.run_dir(harness.run_id) / "outputs"

    ingest_job(harness.store, job, folder / "job1-output.jsonl", folder / "job1-errors.jsonl", run_settings(harness.store, harness.run_id))

    assert [tuple(row) for row in harness.store.questions(harness.run_id)] == before


def test_cancel_while_submitting_cancels_landed_batch(home, standin):
    """A cancel of a job whose create landed unrecorded finds that batch and cancels it at the provider."""
    harness = start_run(standin)
    harness.step()
    job = harness.store.jobs(harness.run_id)[0]
    harness.store.update_job(job["job_id"], batch_id=None, stage="submitting", status=None)

    [event] = harness.engine.cancel_jobs([job["job_id"]])
    harness.drive()

    assert event.message.endswith(f"batch {job['batch_id']}: CANCELLED")
    assert standin.batches[job["batch_id"]].status == "CANCELLED"
    assert harness.store.run(harness.run_id)["status"] == "cancelled"
    assert len(standin.creations) == 1
