"""Design tokens of the two text sizes; one set of templates reads them (pure data)."""

from __future__ import annotations

from typing import Any

# Contrast ratios against the background, checked in tests/browser: standard >= 4.5:1
# (WCAG AA), large >= 7:1 (AAA). Sizes in px; the large body and headings follow
# WCAG 1.4.4 / 1.4.12 practice for low-vision readers (body >= 24, headings >= 30).
STANDARD: dict[str, Any] = {
    "name": "standard",
    "width": 640,
    "mso_width": "640",  # Outlook for Windows ignores max-width: a fixed column there
    "body_size": 18,
    "small_size": 16,
    "h1_size": 28,
    "h2_size": 22,
    "h3_size": 20,
    "line_height": 1.6,
    "gap": 24,
    "pad": 32,
    "pad_narrow": 16,
    "text": "#1f2328",
    "muted": "#4b5563",
    "link": "#0b57a4",
    "bg": "#eef1f5",
    "panel": "#ffffff",
    "rule": "#c9d1db",
    "accent": "#0b57a4",
    "button_text": "#ffffff",
    "button_pad_y": 12,
    "button_pad_x": 20,
    "button_min": 48,
    "dark_bg": "#111418",
    "dark_panel": "#1b1f24",
    "dark_text": "#e9edf1",
    "dark_link": "#9cc7ff",
    "dark_button": "#9cc7ff",
    "dark_button_text": "#0b1a2b",
}

LARGE: dict[str, Any] = STANDARD | {
    "name": "large",
    "width": 760,
    "mso_width": "100%",  # fluid in Outlook: zoom or a narrow pane never scrolls sideways
    "body_size": 24,
    "small_size": 24,
    "h1_size": 38,
    "h2_size": 32,
    "h3_size": 30,
    "line_height": 1.6,
    "gap": 32,
    "pad": 28,
    "pad_narrow": 16,
    "text": "#000000",
    "muted": "#262626",
    "link": "#00387a",
    "bg": "#ffffff",
    "panel": "#ffffff",
    "rule": "#595959",
    "accent": "#00387a",
    "button_pad_y": 14,
    "button_pad_x": 24,
    "button_min": 56,
    "dark_bg": "#000000",
    "dark_panel": "#000000",
    "dark_text": "#ffffff",
    "dark_link": "#b8d7ff",
    "dark_button": "#b8d7ff",
    "dark_button_text": "#000000",
}


def tokens(large: bool) -> dict[str, Any]:
    return LARGE if large else STANDARD
