"""Group commit: many requests, one transaction. The fast path for accepting submissions durably.

Callers `await writer.submit(item)` and get their result only after the batch holding the item has committed.
A batch that fails as a whole is retried item by item, so one bad item fails alone.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from shared.logging import get_logger

T = TypeVar("T")
R = TypeVar("R")

log = get_logger(__name__)


class WriterStopped(RuntimeError):
    """The writer is shutting down and takes no more work."""


class BatchWriter(Generic[T, R]):
    def __init__(
        self,
        engine: AsyncEngine,
        write_batch: Callable[[AsyncConnection, list[T]], Awaitable[list[R]]],
        *,
        max_batch: int = 256,
        on_commit: Callable[[], None] | None = None,
    ):
        self._engine = engine
        self._write_batch = write_batch
        self._max_batch = max_batch
        self._on_commit = on_commit
        self._queue: asyncio.Queue[tuple[T, asyncio.Future[R]]] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._accepting = False

    def start(self) -> None:
        self._accepting = True
        self._task = asyncio.create_task(self._run(), name="batch-writer")

    async def stop(self) -> None:
        """Stop taking work, commit what is queued, then end."""
        self._accepting = False
        if self._task is None:
            return
        await self._queue.join()
        self._task.cancel()
        try:
            await self._task
        except asyncio.CancelledError:
            pass
        self._task = None

    async def submit(self, item: T) -> R:
        if not self._accepting:
            raise WriterStopped("the writer is stopping")
        future: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait((item, future))
        return await future

    async def _run(self) -> None:
        while True:
            first = await self._queue.get()
            batch = [first]
            while len(batch) < self._max_batch:
                try:
                    batch.append(self._queue.get_nowait())
                except asyncio.QueueEmpty:
                    break
            try:
                await self._commit(batch)
            finally:
                for _ in batch:
                    self._queue.task_done()

    async def _commit(self, batch: list[tuple[T, asyncio.Future[R]]]) -> None:
        items = [item for item, _ in batch]
        try:
            async with self._engine.begin() as conn:
                results = await self._write_batch(conn, items)
        except Exception as exc:
            if len(batch) == 1:
                _settle(batch[0][1], exc=exc)
                return
            log.warning("batch_failed_retrying_singly", size=len(batch), error=str(exc))
            for one in batch:
                await self._commit([one])
            return
        if self._on_commit:
            self._on_commit()
        for (_, future), result in zip(batch, results, strict=True):
            _settle(future, result=result)


def _settle(future: asyncio.Future[R], *, result: R | None = None, exc: BaseException | None = None) -> None:
    if future.done():
        return
    if exc is not None:
        future.set_exception(exc)
    else:
        future.set_result(result)  # type: ignore[arg-type]
