"""The `syndicator` CLI as a subprocess; `--unsafe-mark-sent-first` swaps in a Sender that
records each message as sent *before* sending it (the wrong order), through the one seam
`syndicator.delivery.send.Sender`, so the kill test can show it would notice lost mail."""

from __future__ import annotations

import asyncio
import sys

from syndicator.delivery import send
from syndicator.delivery.prepare import Prepared
from syndicator.delivery.sender import Sender
from syndicator.delivery.transport import Outcome


class MarksSentFirst(Sender):
    async def _enqueue(self, item: Prepared, lease_ends: float) -> None:
        marked = [(item, Outcome("sent", 0, "marked before sending"))]
        await asyncio.to_thread(self._recorder.write, marked)
        await super()._enqueue(item, lease_ends)


if __name__ == "__main__":
    if "--unsafe-mark-sent-first" in sys.argv:
        sys.argv.remove("--unsafe-mark-sent-first")
        send.Sender = MarksSentFirst  # type: ignore[misc]
    from syndicator.cli import main

    main()
