"""Screenshots of the browser page for the README: ``make screenshots``.

Drives Debian's chromium (``/usr/bin/chromium``; never a downloaded browser)
through Playwright against the development app on a free loopback port, at
desktop and phone sizes, after an answer and after an emergency. The same
harness (server, browser, speech stub) serves tests/test_browser.py, so the
pictures show what the tests check. Needs the dev set (``make install``).
"""
from __future__ import annotations

import argparse
import contextlib
import io
import sys
import threading
from pathlib import Path
from typing import Any, Iterator

from werkzeug.serving import WSGIRequestHandler, make_server

CHROMIUM = Path("/usr/bin/chromium")
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--no-first-run"]
SIZES = {"desktop": (1280, 800), "phone": (390, 844)}
# What is typed before each picture; the last utterance's reply is the subject.
SCENES = {"answer": ["what is a psa test"],
          "emergency": ["can back pain be prostate cancer", "my legs are numb"]}
# Record what the page asks the browser to say instead of saying it: text,
# language, rate and when (ms); each utterance "ends" at once, so the page's
# pauses between segments are the only gaps.
SPEECH_STUB = """
window.__spoken = [];
if (window.speechSynthesis) {
  window.speechSynthesis.speak = (utterance) => {
    window.__spoken.push({text: utterance.text, lang: utterance.lang, rate: utterance.rate, at: performance.now()});
    setTimeout(() => utterance.dispatchEvent(new Event("end")), 0);
  };
  window.speechSynthesis.cancel = () => {};
}
"""


class _Quiet(WSGIRequestHandler):
    def log_request(self, *args: Any) -> None:
        """No access log: the pictures and tests need none."""


@contextlib.contextmanager
def dev_server() -> Iterator[str]:
    """The development app (webhook + page) on a free loopback port, in a thread; yields its base URL."""
    from ..devserver import create_dev_app
    server = make_server("127.0.0.1", 0, create_dev_app(), threaded=True, request_handler=_Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(5)


@contextlib.contextmanager
def chromium() -> Iterator[Any]:
    """Headless Debian chromium through Playwright."""
    from playwright.sync_api import sync_playwright
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=LAUNCH_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def ask(page: Any, utterance: str) -> None:
    """Type an utterance and wait until its turn is in the transcript."""
    turns = page.locator("#transcript li.turn")
    before = turns.count()
    page.locator("#utterance").fill(utterance)
    page.locator("#utterance").press("Enter")
    turns.nth(before).wait_for()


def small_png(png: bytes) -> bytes:
    """A 64-colour palette PNG: a tenth of the size, and the page is flat colours anyway."""
    from PIL import Image
    image = Image.open(io.BytesIO(png)).convert("RGB").quantize(colors=64, dither=Image.Dither.NONE)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


def take(out_dir: Path) -> list[Path]:
    """One picture per size and scene: ``<scene>-<size>.png``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    with dev_server() as base, chromium() as browser:
        for size, (width, height) in SIZES.items():
            for scene, utterances in SCENES.items():
                context = browser.new_context(base_url=base, viewport={"width": width, "height": height},
                                              color_scheme="light", reduced_motion="reduce")
                context.add_init_script(SPEECH_STUB)
                page = context.new_page()
                page.goto("/")
                for utterance in utterances:
                    ask(page, utterance)
                path = out_dir / f"{scene}-{size}.png"
                path.write_bytes(small_png(page.screenshot()))
                written.append(path)
                context.close()
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m simulator.web.screenshots", description=__doc__.split("\n")[0])
    parser.add_argument("out", type=Path, nargs="?", default=Path("docs/screenshots"))
    args = parser.parse_args(argv)
    if not CHROMIUM.exists():
        print(f"error: needs Debian's chromium at {CHROMIUM} (apt-get install chromium)", file=sys.stderr)
        return 2
    for path in take(args.out):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
