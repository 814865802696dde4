"""The call page in a real browser: headless Chromium driven by Playwright opens
the file:// page offline, expands a node, searches a path, and checks what shows.

Needs the ``playwright`` Python package and a Chromium at /usr/bin/chromium
(Debian's ``chromium``; no browser download). Skipped, saying which is missing,
otherwise. ``CALLAX_UPDATE_SCREENSHOT=1`` also writes the README's
``docs/call_page.png``.
"""

import os
import pathlib
import shutil

import pytest
from call_page_models import ResidualCNN, images

import callax

CHROMIUM = os.environ.get("CALLAX_CHROMIUM", "/usr/bin/chromium")
ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
SCREENSHOT = pathlib.Path(__file__).resolve().parents[2] / "docs" / "call_page.png"


def _browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        reason = "the playwright Python package is not installed (pip install playwright)"
        print(f"SKIP: {reason}")
        pytest.skip(reason)
    if not (os.path.exists(CHROMIUM) or shutil.which(CHROMIUM)):
        reason = f"no Chromium at {CHROMIUM} (apt-get install chromium)"
        print(f"SKIP: {reason}")
        pytest.skip(reason)
    return sync_playwright


def _visible(page):
    """data-path of every call-tree row a person can see now."""
    return page.eval_on_selector_all(
        ".cx-node > details > summary",
        "els => els.filter(e => e.checkVisibility() && e.getClientRects().length > 0)"
        ".map(e => e.parentElement.parentElement.dataset.path)",
    )


def test_call_page_in_chromium(tmp_path):
    sync_playwright = _browser()
    cnn = ResidualCNN()
    page_file = callax.show(cnn, images(), path=tmp_path / "cnn.html", profile=True).path
    top = ["stem", "block1", "block2", "pool", "head"]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1180, "height": 900})
            errors, requests = [], []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on("console", lambda m: m.type == "error" and errors.append(m.text))
            page.on("request", lambda r: requests.append(r.url))
            page.goto(pathlib.Path(page_file).as_uri())
            assert page.title() == "ResidualCNN call · callax"
            assert _visible(page) == top
            assert page.inner_text(".cx-count") == "15 calls"

            # Expand a node: its calls appear, in order, under it.
            page.click(".cx-node[data-path='block1'] > details > summary")
            children = ["block1.conv1", "block1.bn1", "block1.conv2", "block1.bn2", "block1.add"]
            assert _visible(page) == top[:2] + children + top[2:]
            conv1 = ".cx-node[data-path='block1.conv1']"
            assert "584 params" in page.inner_text(f"{conv1} > details > summary")
            page.click(f"{conv1} > details > summary")  # its details: shapes, statistics
            info = page.inner_text(f"{conv1} > details > .cx-info")
            assert "kernel (3,3,8,8) float32" in info and "output statistics" in info
            assert page.is_visible(f"{conv1} .cx-hist")
            if os.environ.get("CALLAX_UPDATE_SCREENSHOT") == "1":
                SCREENSHOT.parent.mkdir(exist_ok=True)
                shot = SCREENSHOT
            else:
                shot = tmp_path / "call_page.png"
            page.screenshot(path=str(shot))
            assert shot.stat().st_size > 10_000

            # Search a path: matching calls and their ancestors only, highlighted.
            page.fill(".cx-search", "bn2")
            assert _visible(page) == ["block1", "block1.bn2", "block2", "block2.bn2"]
            assert page.inner_text(".cx-count") == "2 of 15 calls match"
            hits = page.eval_on_selector_all(".cx-hit", "els => els.map(e => e.dataset.path)")
            assert hits == ["block1.bn2", "block2.bn2"]
            page.fill(".cx-search", "block2.conv")
            assert _visible(page) == ["block2", "block2.conv1", "block2.conv2"]
            page.fill(".cx-search", "")
            assert _visible(page) == top[:2] + children + top[2:]  # as before the search

            page.click("button[data-act=collapse]")
            assert _visible(page) == top
            page.click("button[data-act=expand]")
            assert len(_visible(page)) == 15
            assert page.is_visible(".cx-profile") and page.is_visible(".cx-graph svg")
            assert errors == []
            assert all(url.startswith("file://") for url in requests), requests
        finally:
            browser.close()
