"""The background loop: more work at once, a wake event or the interval between units, a failing unit retried after
its backoff, and a stop that lets the unit in progress finish."""

from __future__ import annotations

import asyncio

from shared.background import Backoff, poll_until_stopped


class Units:
    """A unit of work that records when it ran and answers from a script (True: more, an exception: fails)."""

    def __init__(self, *answers: bool | Exception, then: bool = False) -> None:
        self.answers = list(answers)
        self.then = then
        self.ran: list[float] = []
        self.ran_event = asyncio.Event()

    async def __call__(self) -> bool:
        self.ran.append(asyncio.get_running_loop().time())
        self.ran_event.set()
        answer = self.answers.pop(0) if self.answers else self.then
        if isinstance(answer, Exception):
            raise answer
        return answer

    async def next_run(self) -> None:
        self.ran_event.clear()
        await asyncio.wait_for(self.ran_event.wait(), 5)


async def _stop(task: asyncio.Task[None], stopping: asyncio.Event) -> float:
    """Stop the loop; how long it took to return."""
    started = asyncio.get_running_loop().time()
    stopping.set()
    await asyncio.wait_for(task, 5)
    return asyncio.get_running_loop().time() - started


async def test_runs_again_at_once_while_there_is_more_then_waits_for_the_interval() -> None:
    units, stopping = Units(True, True, False), asyncio.Event()
    task = asyncio.create_task(poll_until_stopped(units, stopping=stopping, interval=0.3, name="t"))
    while len(units.ran) < 4:
        await units.next_run()
    first, *_, third, fourth = units.ran
    assert third - first < 0.1, "a unit that reported more is followed at once"
    assert fourth - third >= 0.29, "without a wake event, the loop waits the interval"
    await _stop(task, stopping)


async def test_a_wake_cuts_the_wait_short() -> None:
    units, stopping, wake = Units(), asyncio.Event(), asyncio.Event()
    task = asyncio.create_task(poll_until_stopped(units, stopping=stopping, wake=wake, interval=30, name="t"))
    await units.next_run()
    await asyncio.sleep(0.05)
    wake.set()
    await units.next_run()
    assert len(units.ran) == 2
    assert await _stop(task, stopping) < 0.5, "the stop ends the wait too"


async def test_a_failing_unit_is_retried_after_a_doubling_pause() -> None:
    units, stopping = Units(RuntimeError("boom"), RuntimeError("boom"), False), asyncio.Event()
    task = asyncio.create_task(
        poll_until_stopped(units, stopping=stopping, interval=30, name="unit", backoff=Backoff(0.1, 0.15))
    )
    while len(units.ran) < 3:
        await units.next_run()
    first, second, third = units.ran
    assert 0.09 <= second - first < 0.3
    assert 0.14 <= third - second < 0.35, "the second pause doubles, up to the cap"
    await _stop(task, stopping)


async def test_a_stop_cuts_a_failure_pause_short() -> None:
    units, stopping = Units(RuntimeError("boom")), asyncio.Event()
    task = asyncio.create_task(
        poll_until_stopped(units, stopping=stopping, interval=30, name="unit", backoff=Backoff(600, 600))
    )
    await units.next_run()
    assert await _stop(task, stopping) < 0.5


async def test_a_stop_lets_the_unit_in_progress_finish() -> None:
    stopping, finished = asyncio.Event(), asyncio.Event()

    async def slow() -> bool:
        stopping.set()
        await asyncio.sleep(0.1)
        finished.set()
        return True

    await asyncio.wait_for(poll_until_stopped(slow, stopping=stopping, interval=30, name="t"), 5)
    assert finished.is_set()


def test_backoff_doubles_up_to_its_cap() -> None:
    backoff = Backoff(0.2, 0.5)
    assert [backoff.after(p) for p in (0.2, 0.4)] == [0.4, 0.5]
