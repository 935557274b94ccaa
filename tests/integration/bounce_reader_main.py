"""The daemon's mailbox round in a process of its own, stopped between recording a message and
moving it: `python -m tests.integration.bounce_reader_main SETTINGS_JSON MARKER` writes MARKER
once the first message is recorded (committed), then waits to be killed."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from syndicator.bounces.intake import Intake, Taken
from syndicator.config.settings import Settings
from syndicator.runtime import returns
from syndicator.state.db import state_engine


class StopsAfterRecording(Intake):
    def take(self, raw: bytes, **kw: object) -> Taken:
        taken = super().take(raw)
        Path(sys.argv[2]).write_text(str(taken.record_id))
        time.sleep(600)  # the test kills us here: recorded, not yet moved
        return taken


if __name__ == "__main__":
    settings = Settings(**json.loads(sys.argv[1]))
    returns.Intake = StopsAfterRecording  # type: ignore[misc]
    returns.read_mailbox(settings, state_engine(settings))
