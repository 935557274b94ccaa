"""The email templates are found from anywhere, escape HTML and keep text templates raw."""

from __future__ import annotations

import os
from datetime import UTC
from pathlib import Path

import pytest
from jinja2 import Environment, TemplateNotFound

from syndicator.compose import templates
from syndicator.compose.templates import ResourceLoader, environment, web_url
from tests.conftest import REPO

TEMPLATE_DIR = REPO / "templates" / "email"


def test_autoescape_covers_every_html_template() -> None:
    env = environment("Asia/Ho_Chi_Minh")
    assert env.from_string("{{ x }}").render(x="<b>") == "&lt;b&gt;"
    names = [p.name for p in TEMPLATE_DIR.iterdir() if p.suffix == ".j2"]
    for name in names:
        escaped = env.autoescape(name) if callable(env.autoescape) else env.autoescape
        assert escaped == (".html" in name), name


def test_packaged_loader_reads_from_a_resource_tree() -> None:
    loader = ResourceLoader(TEMPLATE_DIR)
    env = Environment(loader=loader)
    source, _, uptodate = loader.get_source(env, "base.html.j2")
    assert "<!DOCTYPE html>" in source and uptodate is not None and uptodate()
    with pytest.raises(TemplateNotFound):
        env.get_template("nope.html.j2")


def test_templates_do_not_depend_on_the_working_directory(tmp_path: Path) -> None:
    here = os.getcwd()
    os.chdir(tmp_path)
    try:
        environment.cache_clear()
        assert environment("UTC").get_template("digest.html.j2") is not None
    finally:
        os.chdir(here)
        environment.cache_clear()
    assert templates.template_loaders("email") and templates.template_loaders("web")


@pytest.mark.parametrize("url,expected", [
    ("https://a.example/x", "https://a.example/x"), ("http://a.example", "http://a.example"),
    ("javascript:alert(1)", "#"), ("JAVASCRIPT:x", "#"), ("data:text/html,x", "#"),
    ("", "#"), (None, "#"),
])
def test_only_web_links_reach_an_href(url: str | None, expected: str) -> None:
    assert web_url(url) == expected


def test_vietnamese_weekday_dates() -> None:
    from datetime import datetime
    f = environment("Asia/Ho_Chi_Minh").filters["vi_weekday_date"]
    assert f(datetime(2023, 11, 26, 17, 0, tzinfo=UTC)) == "Thứ Hai, 27/11/2023"
    assert f(datetime(2023, 11, 26, 16, 59, tzinfo=UTC)) == "Chủ Nhật, 26/11/2023"
