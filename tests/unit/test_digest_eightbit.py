"""8bit bodies: every line within 998 octets, cut only where a reader sees no difference."""

from __future__ import annotations

from html.parser import HTMLParser

from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from syndicator.compose import eightbit

WORD = st.text(st.sampled_from("aăâbđêôơưxyzẠẢẤỆỘỰ&<>\"'"), min_size=1, max_size=60)
TEXT = st.lists(WORD, min_size=1, max_size=200).map(" ".join)


class Events(HTMLParser):
    """What a reader's client builds: tags, attributes and text, white space folded."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.events: list[tuple[str, ...]] = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        fold = {k: "".join((v or "").split()) if k == "style" else " ".join((v or "").split())
                for k, v in attrs}
        self.events.append(("start", tag, *sorted(f"{k}={v}" for k, v in fold.items())))

    def handle_endtag(self, tag: str) -> None:
        self.events.append(("end", tag))

    def handle_data(self, data: str) -> None:
        if data.split():
            self.events.append(("text", " ".join(data.split())))


def page(text: str, label: str) -> str:
    return (f'<p class="lead" style="color: #1f2328;font-size: 18px;margin: 0 0 12px 0;">'
            f'{text}</p><a class="button" href="https://x.example/{len(text)}" '
            f'aria-label="Đọc tiếp: {label}" style="display: inline-block;padding: 12px;">'
            f"Đọc tiếp</a>")


@hsettings(max_examples=150, deadline=None)
@given(text=TEXT, label=TEXT)
def test_long_html_lines_are_cut_invisibly(text: str, label: str) -> None:
    import html as htmllib

    source = page(htmllib.escape(text, quote=False), htmllib.escape(label))
    out = eightbit.wrap(source, [], html=True)
    assert out is not None
    assert max(len(line) for line in out.split(b"\n")) <= eightbit.LINE_LIMIT
    assert Events(out.decode("utf-8")).events == Events(source).events


@hsettings(max_examples=100, deadline=None)
@given(text=TEXT)
def test_plain_text_is_cut_at_spaces(text: str) -> None:
    out = eightbit.wrap(text, [], html=False)
    assert out is not None
    assert max(len(line) for line in out.split(b"\n")) <= eightbit.LINE_LIMIT
    assert out.replace(b"\n", b" ") == text.encode("utf-8")


def test_holes_keep_room_for_their_values() -> None:
    token = "zqdeadbeefnameqz"
    line = "Kính gửi: " + "Ủy ban " * 100 + token + ","  # the hole counts HOLE_WIDTH bytes
    out = eightbit.wrap(line, [token], html=True)
    assert out is not None
    last = out.split(b"\n")[-1]
    assert token.encode() in last
    assert len(last) - len(token) + eightbit.HOLE_WIDTH <= eightbit.LINE_LIMIT


def test_what_cannot_be_cut_is_left_to_quoted_printable() -> None:
    assert eightbit.wrap("<p>" + "ư" * 600 + "</p>", [], html=True) is None
    assert eightbit.wrap("a\x00b", [], html=False) is None
    assert eightbit.value("Ủ" * 200) is None  # 600 bytes, no space
    assert eightbit.value("Phòng " * 80) is not None
