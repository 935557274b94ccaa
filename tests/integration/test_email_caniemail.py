"""Every email template linted against caniemail's data (doiuse-email) for the clients our
readers use: nothing that carries layout or meaning may be unsupported there.

The allowed findings are progressive extras, each with the reason it is harmless where it is
missing; anything else (a flex layout, a background image, a new CSS property) fails.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest

from syndicator.compose.composer import DigestComposer
from syndicator.config.settings import Settings
from tests.conftest import REPO, REQUIRE
from tests.support.digests import digest, parse, recipient
from tests.support.sizes import long_bulletins

LINT = REPO / "tests" / "support" / "caniemail.mjs"
DOIUSE = REPO / "node_modules" / "doiuse-email"
CLIENTS = ["outlook.windows", "gmail.*", "apple-mail.*"]
DATE = datetime(2023, 11, 27, 0, 5, tzinfo=UTC)
# feature -> why a client without it still shows the whole message as meant.
PROGRESSIVE = {
    "@media": "narrow-screen paddings and dark mode; the inline styles are the complete design",
    "border-radius": "rounded corners (Outlook draws its own VML roundrect)",
    "overflow-wrap": "breaks an overlong URL instead of widening the column",
    "word-break": "same, for older WebKit",
    "HTML5 semantics": "header/main/footer landmarks for screen readers; tables do the layout",
    "Local anchors": "the contents' jumps; where a client ignores them the reader scrolls",
    # The preheader's hiding is layered: display:none, then zero max-height/width with
    # overflow hidden, then opacity, a 1px font and mso-hide:all for Outlook.
    "display:none": "one layer of the preheader's hiding (see test_preheader_*)",
    "opacity": "one layer of the preheader's hiding",
    "overflow": "one layer of the preheader's hiding",
}


def feature(error: str) -> str:
    found = re.match(r"`([^`]+)` is not supported by `([^`]+)`", error)
    assert found, error
    return found.group(1)


def every_html() -> dict[str, str]:
    composer, date = DigestComposer(Settings()), DATE
    found: dict[str, str] = {}
    for large in (False, True):
        size = "large" if large else "standard"
        r = recipient(large=large)
        for name, d in (("digest", digest(5)), ("guarded", digest(bulletins=long_bulletins(60))),
                        ("immediate", digest(1, frequency="immediate"))):
            raw = composer.message(d, r, message_id="<l@x>", date=date, eightbit=True)
            found[f"{name}-{size}"] = html_of(raw)
        found[f"confirmation-{size}"] = html_of(composer.confirmation(
            r, confirm_url="http://127.0.0.1:8080/confirm/t.1", message_id="<c@x>", date=date))
        for kind in ("unsubscribed", "preferences_changed", "manage_link"):
            found[f"{kind}-{size}"] = html_of(composer.notice(r, kind, message_id="<n@x>",
                                                              date=date))
        found[f"web-{size}"] = composer.web_copy(digest(5), large=large)
    return found


def html_of(raw: bytes) -> str:
    part = parse(raw).get_body(("html",))
    assert part is not None
    return part.get_content()


def lint(pages: dict[str, str], tmp: Path) -> dict[str, list[str]]:
    node = shutil.which("node")
    if node is None or not DOIUSE.exists():
        reason = "node or node_modules/doiuse-email is missing (npm ci)"
        if REQUIRE:
            pytest.fail(reason + "; SYNDICATOR_TEST_REQUIRE_SERVICES=1 makes it mandatory")
        pytest.skip(reason)
    files = {}
    for name, html in pages.items():
        files[str(tmp / f"{name}.html")] = name
        (tmp / f"{name}.html").write_text(html, encoding="utf-8")
    out = subprocess.run([node, str(LINT), json.dumps(CLIENTS), *files], capture_output=True,
                         text=True, timeout=300, check=True)
    return {files[f]: errors for f, errors in json.loads(out.stdout).items()}


def test_no_unsupported_feature_carries_layout_or_meaning(tmp_path: Path) -> None:
    found = lint(every_html(), tmp_path)
    assert len(found) == 16
    unexpected = {name: sorted({e for e in errors if feature(e) not in PROGRESSIVE})
                  for name, errors in found.items()}
    assert {k: v for k, v in unexpected.items() if v} == {}


def test_the_lint_catches_a_layout_outlook_cannot_draw(tmp_path: Path) -> None:
    html = every_html()["digest-standard"].replace(
        '<main>', '<main style="display: flex; background-image: url(x.png);">', 1)
    errors = lint({"broken": html}, tmp_path)["broken"]
    bad = {feature(e) for e in errors} - set(PROGRESSIVE)
    assert {"display:flex", "background-image"} <= bad, bad
