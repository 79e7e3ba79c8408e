"""Progress: a line at least every interval when stderr is not a terminal, done/total and an estimate."""

from __future__ import annotations

import io
import time

from kb.progress import ChunkProgress, format_duration


def test_plain_lines_come_on_a_timer_when_not_a_terminal():
    out = io.StringIO()
    bar = ChunkProgress("Inlezen", stream=out, interval=0.05, tty=False)
    bar(0, 100)
    time.sleep(0.02)
    bar(10, 100)
    time.sleep(0.2)  # no update in between: the timer still writes lines
    bar(40, 100)
    bar.close()
    lines = out.getvalue().splitlines()
    assert len(lines) >= 3
    assert lines[0].startswith("Inlezen: 10/100 teksten (10 %)")
    assert "nog ongeveer" in lines[0]
    assert lines[-1].startswith("Inlezen: 40/100 teksten (40 %)")


def test_estimate_follows_the_rate_since_the_first_update():
    bar = ChunkProgress("x", stream=io.StringIO(), tty=False, interval=60)
    bar(50, 150)  # 50 came from the cache at once: not counted in the rate
    bar._first_done = (time.monotonic() - 10.0, 50)
    bar.done = 100
    left = bar.estimate()
    assert left is not None and 8 < left < 12  # 50 texts in 10 s, 50 to go
    bar.close()


def test_a_terminal_gets_a_bar_not_lines():
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    out = Tty()
    bar = ChunkProgress("Inlezen", stream=out, interval=0.01)
    bar(5, 10)
    time.sleep(0.05)
    bar.close()
    assert "5/10" in out.getvalue() and "Inlezen: 5/10 teksten" not in out.getvalue()


def test_durations_read_naturally():
    assert format_duration(12) == "12 s"
    assert format_duration(150) == "2 min" or format_duration(150) == "3 min"
    assert format_duration(7200) == "2.0 uur"
