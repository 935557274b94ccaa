"""A built wheel carries the email templates and composes mail without the repository."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

from tests.conftest import REPO

SCRIPT = """
import email, email.policy, sys
from datetime import datetime, timezone
import syndicator
from syndicator.compose import templates
from syndicator.compose.composer import DigestComposer
from syndicator.config.settings import Settings
from tests.support.digests import digest, recipient
assert syndicator.__file__.startswith(sys.argv[1]), syndicator.__file__
assert not (templates.REPO_TEMPLATES / "email").is_dir(), "the repository's templates are in reach"
raw = DigestComposer(Settings()).message(digest(2), recipient(), message_id="<w@x>",
                                         date=datetime(2023, 11, 27, tzinfo=timezone.utc))
msg = email.message_from_bytes(raw, policy=email.policy.default)
from syndicator.web import templates as web_templates
from syndicator.web.view import View
assert not (templates.REPO_TEMPLATES / "web").is_dir(), "the repository's pages are in reach"
assert "bản tin" in View(Settings()).consent_text
web_templates.environment().get_template("subscribe.html.j2")
print(msg["Subject"])
"""


def test_wheel_ships_templates(tmp_path: Path) -> None:
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w",
                            str(tmp_path / "dist"), str(REPO)], capture_output=True, text=True,
                           timeout=600)
    assert built.returncode == 0, built.stderr
    wheel, = (tmp_path / "dist").glob("syndicator-*.whl")
    site = tmp_path / "site"
    with zipfile.ZipFile(wheel) as zf:
        assert "syndicator/templates/email/digest.html.j2" in zf.namelist()
        assert "syndicator/templates/web/subscribe.html.j2" in zf.namelist()
        zf.extractall(site)
    # tests.support for the sample digest, from a copy outside the repository as well
    (site / "tests" / "support").mkdir(parents=True)
    (site / "tests" / "__init__.py").write_text("")
    for src in (REPO / "tests" / "support").glob("*.py"):
        (site / "tests" / "support" / src.name).write_bytes(src.read_bytes())
    env = {**os.environ, "PYTHONPATH": str(site)}
    done = subprocess.run([sys.executable, "-c", SCRIPT, str(site)], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    subject = done.stdout.strip().splitlines()[-1]
    assert subject == "Bản tin Sở Nội vụ tỉnh Bắc Kạn: 2 tin mới từ 26/11 đến 27/11/2023"
