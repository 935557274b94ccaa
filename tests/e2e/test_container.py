"""The container as an operator runs it: scripts/container-smoke (build, demo, health, stop)."""

from __future__ import annotations

import os
import subprocess

import pytest

from tests.conftest import REPO

pytestmark = pytest.mark.container


@pytest.mark.skipif(os.environ.get("RUN_CONTAINER_TESTS") != "1",
                    reason="set RUN_CONTAINER_TESTS=1 (builds an image: ~1-3 min)")
def test_container_smoke() -> None:
    done = subprocess.run([str(REPO / "scripts" / "container-smoke")], cwd=REPO,
                          capture_output=True, text=True, timeout=900)
    print(done.stdout)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "container-smoke: ok" in done.stdout
