"""Screenshots of the task pane on the real models: docs/img/taskpane.png and taskpane-denoising.png.

Starts gunicorn on a free 127.0.0.1 port serving the shipped checkpoints, opens the pane in headless
Chromium (outside Office, so on its built-in sample sheet), types a request, clicks Generate and
captures the denoising stream, then the whole pane once the candidates and their previews are in.
Nothing is left running afterwards.

    .venv/bin/python scripts/screenshot_taskpane.py
    .venv/bin/python scripts/screenshot_taskpane.py --request "top 3 sales" --out /tmp/shots

Needs Chromium (`apt-get install chromium`, or CF_CHROMIUM=/path/to/chrome).
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from benchmarks.live_server import LiveServer          # noqa: E402  (after the path fix above)
from tests.service.cdp import Browser, CdpError, find_chromium   # noqa: E402  (the one CDP driver)

WIDTH, HEIGHT = 380, 900          # a task pane's size in desktop Excel
# the pane's step label reads "step N · t=..." while animating and "done · N steps" at the end
ANIMATING = "document.getElementById('step').textContent.startsWith('step ')"
RESULTS_SHOWN = "!document.getElementById('results-section').hidden"


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--request", default="highlight values less than 500 in red",
                        help="what to type into the pane (default: %(default)r)")
    parser.add_argument("-k", type=int, default=5, choices=(1, 3, 5, 10), help="candidates to ask for (the pane's menu)")
    parser.add_argument("--checkpoints", type=Path, default=REPO / "checkpoints",
                        help="folder holding cf/ (default: the shipped checkpoints)")
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "img", help="where the PNGs go")
    parser.add_argument("--tries", type=int, default=5,
                        help="Generate clicks allowed for catching the animation mid-way (fast models finish quickly)")
    return parser.parse_args(argv)


def generate(browser: Browser, request: str, k: int) -> None:
    browser.evaluate("document.getElementById('request').value = ''")
    browser.type("#request", request)
    browser.evaluate(f"document.getElementById('k').value = '{k}'")
    browser.click("#generate")


def catch_denoising(browser: Browser, request: str, k: int, path: Path, tries: int) -> bool:
    """Screenshot the pane while a denoising step is on screen; True when caught mid-animation.
    The default cf model samples in one step and the pane shows each step for ~45 ms, so poll tightly
    and click Generate again if the frame was missed; the last try keeps what the pane shows at the end."""
    for attempt in range(1, tries + 1):
        generate(browser, request, k)
        try:
            browser.wait_for(f"{ANIMATING} || ({RESULTS_SHOWN} && !document.getElementById('generate').disabled)",
                             timeout=120, interval=0.005)
        except CdpError:
            raise SystemExit("the pane showed neither denoising steps nor results within 120 s") from None
        caught = browser.evaluate(ANIMATING)
        if caught or attempt == tries:
            browser.screenshot(str(path))   # the whole pane: every denoising line
            # the screenshot may land a frame later than the check: say what it really shows
            caught = caught and browser.evaluate(ANIMATING)
        browser.wait_for(f"{RESULTS_SHOWN} && !document.getElementById('generate').disabled", timeout=120)
        if caught:
            return True
    return False


def main(argv=None) -> int:
    args = parse_args(argv)
    if find_chromium() is None:
        raise SystemExit("no Chromium found: apt-get install chromium, or set CF_CHROMIUM=/path/to/chrome")
    if not (args.checkpoints / "cf" / "config.json").is_file():
        raise SystemExit(f"no cf checkpoint at {args.checkpoints / 'cf'}: train one or pass --checkpoints")
    args.out.mkdir(parents=True, exist_ok=True)
    denoising_png, pane_png = args.out / "taskpane-denoising.png", args.out / "taskpane.png"

    # the pane only calls the cf endpoints, so only the cf model is loaded
    env = {"CF_SERVICE_CHECKPOINTS": str(args.checkpoints.resolve()), "CF_TASKS": "cf",
           "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    started = time.monotonic()
    with LiveServer(workers=1, env=env) as server:
        print(f"gunicorn ready on {server.base_url} in {time.monotonic() - started:.1f} s")
        with Browser(server.base_url + "/taskpane/", width=WIDTH, height=HEIGHT) as browser:
            browser.wait_for("document.querySelectorAll('#sheet tbody tr').length === 10")
            browser.wait_for("document.getElementById('health').classList.contains('ready')", timeout=60)

            caught = catch_denoising(browser, args.request, args.k, denoising_png, args.tries)
            print(f"wrote {denoising_png} ({'mid-animation' if caught else 'animation already finished'})")

            # the same run's candidates, once the pane has finished with them
            time.sleep(0.3)                                  # let the previews' fills paint
            browser.screenshot(str(pane_png))
            rules = browser.evaluate("[...document.querySelectorAll('#results > li code.rule')].map(e => e.textContent)")
            status = browser.evaluate("document.getElementById('status').textContent")
            print(f"wrote {pane_png}: candidates {rules}; status: {status}")
            if browser.exceptions:
                raise SystemExit(f"the page threw: {browser.exceptions}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
