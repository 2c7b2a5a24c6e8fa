"""docs/img/overlay-obs.png: a race overlay and a ticker over a test pattern, as OBS composes them (1280×720).

Run against a server with data (`make run`, or any `manage.py serve`): the overlays are screenshotted with a
transparent background, then laid over a CSS test pattern in a page of their own.

    python scripts/overlay_screenshot.py http://127.0.0.1:8000 /overlay/<token>/race/ /overlay/<token>/ticker/
"""

from __future__ import annotations

import base64
import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

OUT = Path(__file__).resolve().parents[1] / "docs" / "img" / "overlay-obs.png"
SIZE = {"width": 1280, "height": 720}
PATTERN = """<!doctype html><html><body style="margin:0;width:1280px;height:720px;position:relative;
background:linear-gradient(90deg,#c0c0c0 0 14.28%,#c0c000 0 28.57%,#00c0c0 0 42.85%,#00c000 0 57.14%,#c000c0 0 71.42%,
#c00000 0 85.71%,#0000c0 0)">{layers}</body></html>"""
LAYER = '<img style="position:absolute;inset:0" width="1280" height="720" src="data:image/png;base64,{}">'


def main(base: str, *paths: str) -> None:
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--headless=new", "--no-sandbox"])
        page = browser.new_page(viewport=SIZE)
        layers = []
        for path in paths:
            page.goto(base + path)
            page.wait_for_selector("html[data-state=live]", state="attached")
            page.wait_for_timeout(1200)  # the ticker scrolls into view
            layers.append(LAYER.format(base64.b64encode(page.screenshot(omit_background=True)).decode()))
        canvas = browser.new_page(viewport=SIZE)  # a page of its own: the overlay's CSP forbids inline style
        canvas.set_content(PATTERN.format(layers="".join(layers)))
        canvas.screenshot(path=str(OUT))
        browser.close()
    print(f"{OUT} ({OUT.stat().st_size // 1024} KB)")


if __name__ == "__main__":
    main(*sys.argv[1:])
