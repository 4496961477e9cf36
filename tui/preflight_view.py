"""The text of the confirmation shown before runs start: what will be sent and what it may cost."""

from __future__ import annotations

from rich.text import Text

from core.launch import BATCH_DISCOUNT
from core.text import one_line
from tui.tasks import PreparedLaunch


def preflight_text(prepared: PreparedLaunch, dataset_size: int) -> Text:
    """Summarise a prepared launch; model ids and paths are shown as plain text."""
    request, estimate = prepared.request, prepared.preflight
    text = Text()
    if prepared.simulated:
        text.append("SIMULATED: the mock provider runs offline; its answers and grades say nothing about any model.\n\n", style="bold")
    text.append(f"Provider        {request.provider}\n")
    text.append(f"Runs            {estimate.runs} (one per student model, sharing the judge)\n")
    for model in request.models:
        text.append(f"  student       {one_line(model, 60)}\n")
    text.append(f"Judge           {one_line(request.grader_model, 60)}\n")
    text.append(f"Dataset         {one_line(request.dataset, 60)}\n")
    sample = "all" if request.limit is None or request.limit >= dataset_size else f"{request.limit} (seed {request.seed})"
    text.append(f"Questions       {estimate.questions} of {dataset_size}; sample: {sample}\n")
    text.append(f"Requests        {estimate.requests:,} (answers and judge, before retries)\n")
    text.append(f"Shards          {estimate.answer_shards} answer, about {estimate.judge_shards_estimate} judge\n")
    text.append(f"Tokens          about {estimate.estimated_tokens:,} (estimate)\n")
    if estimate.estimated_cost is None:
        text.append("Cost            not estimated (no price known)\n")
    else:
        text.append(f"Cost            about ${estimate.estimated_cost:,.4f} (batch discount {BATCH_DISCOUNT:.0%} applied; estimate)\n")
    text.append(f"Poll interval   {request.poll_interval:g} s\n")
    for warning in (*estimate.warnings, *([prepared.price_note] if prepared.price_note else [])):
        text.append(f"\n⚠ {one_line(warning)}", style="yellow")
    return text
