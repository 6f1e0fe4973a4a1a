"""Work slots that count the requests they turn away, for `/metrics`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from prometheus_client import Counter

from service.api.deps import WorkSlots

if TYPE_CHECKING:
    from service.api.deps import _LoopSlots


class CountedWorkSlots(WorkSlots):
    def __init__(self, slots: int, wait_seconds: float, rejections: Counter) -> None:
        super().__init__(slots, wait_seconds)
        self.rejections = rejections

    async def take(self) -> _LoopSlots | None:
        taken = await super().take()
        if taken is None:  # the route answers 503 with Retry-After
            self.rejections.inc()
        return taken
