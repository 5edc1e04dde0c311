"""The demo's console: commands and output as the blog shows them, progress while waiting, and a
failure that names what was expected."""

from __future__ import annotations

import io

import pytest

from kfed_demo.console import Console, StepFailed
from kfed_demo.stage import region_of


def test_commands_and_output_are_printed_like_a_terminal_session() -> None:
    out = io.StringIO()
    console = Console(out)
    console.command("kfed get clusters")
    console.output("NAME   STATUS\nasia   Ready\n")
    assert out.getvalue() == "$ kfed get clusters\n  NAME   STATUS\n  asia   Ready\n"


async def test_waiting_reports_what_it_waits_for_and_how_long_it_took() -> None:
    out = io.StringIO()
    console = Console(out)
    answers = iter([None, None, "yes"])

    async def check() -> str | None:
        return next(answers)

    assert await console.wait_for("the answer", check, within=5, interval=0.001) == "yes"
    lines = out.getvalue().splitlines()
    assert lines[0] == "  … waiting for the answer"
    assert lines[1].startswith("  ✔ the answer (") and lines[1].endswith("s)")


async def test_a_wait_that_times_out_names_what_and_the_last_error() -> None:
    console = Console(io.StringIO())

    async def check() -> bool:
        raise ConnectionError("hub not answering")

    with pytest.raises(StepFailed) as caught:
        await console.wait_for(
            "nine clusters Ready", check, within=0.01, interval=0.001, detail=lambda: "3/9"
        )
    message = str(caught.value)
    assert message.startswith("nine clusters Ready: not seen within 0.01 s. 3/9")
    assert "ConnectionError: hub not answering" in message


def test_regions_are_read_from_zones() -> None:
    assert region_of("asia-east1-b") == "asia-east1"
    assert region_of("europe-west1-d") == "europe-west1"
