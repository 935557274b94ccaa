"""The `syndicator` CLI as a subprocess; `--unsafe-mark-sent-first` flips the test-only switch."""

from __future__ import annotations

import sys

from syndicator.delivery import sender

if __name__ == "__main__":
    if "--unsafe-mark-sent-first" in sys.argv:
        sys.argv.remove("--unsafe-mark-sent-first")
        sender.UNSAFE_MARK_SENT_FIRST = True
    from syndicator.cli import main

    main()
