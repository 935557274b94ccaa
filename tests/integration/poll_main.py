"""A poll step as its own process, stopped dead at a chosen point: after ingest committed
(`ingest`: before any notice is planned) or after planning (`plan`: before anything is sent).
It prints READY there and waits to be killed (-9) by the crash test."""

from __future__ import annotations

import sys
import time

from syndicator.config.loader import load_settings
from syndicator.ingest.poll import Poller
from syndicator.planning.corrections import queue_corrections
from syndicator.planning.due import queue_immediate
from syndicator.source.portal import PortalSource
from syndicator.state.db import state_engine

if __name__ == "__main__":
    config, stop_after = sys.argv[1], sys.argv[2]
    settings = load_settings(config)
    state = state_engine(settings)
    Poller(settings, PortalSource(settings.source, settings.tz), state).poll()
    if stop_after == "plan":
        queue_immediate(settings, state)
        queue_corrections(settings, state)
    print("READY", flush=True)
    time.sleep(600)
