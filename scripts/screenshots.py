"""The README's pictures of the task pane, from the shipped models:

    docs/img/denoising.gif          the denoising view, one picture per frame the service streamed
    docs/img/taskpane-denoising.png the pane while the denoising runs (the answer is already listed)
    docs/img/taskpane.png           the whole pane with the candidates, what each paints and its preview
    docs/img/taskpane-code.png      the Bash / Python tab (with --code-tab, the default)

Starts gunicorn on a free 127.0.0.1 port serving checkpoints/, opens the pane in headless Chromium
(outside Office, so on its built-in sample sheet), types a request and clicks Generate. For the GIF
the pane is opened with ?frame_ms=N, which only slows how often it draws the frames it receives, so
every frame can be captured; each captured picture is checked to show the frame it was taken for.
Nothing is left running afterwards.

    .venv/bin/python scripts/screenshots.py
    .venv/bin/python scripts/screenshots.py --request "top 3 sales in bold green" --out /tmp/shots --no-code-tab

Needs Chromium (`apt-get install chromium`, or CF_CHROMIUM=/path/to/chrome) and Pillow.
"""
from __future__ import annotations

import argparse
import base64
import io
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from benchmarks.live_server import LiveServer          # noqa: E402  (after the path fix above)
from tests.service.cdp import Browser, find_chromium   # noqa: E402  (the one CDP driver)

WIDTH, HEIGHT = 380, 900          # a task pane's size in desktop Excel
FRAMES = "(window.__cfFrames || []).length"
DONE = "document.getElementById('step').textContent.startsWith('done') && !document.getElementById('generate').disabled"


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--request", default="highlight sales under 500 in red",
                        help="what to type into the pane (default: %(default)r)")
    parser.add_argument("-k", type=int, default=3, choices=(1, 3, 5, 8), help="candidates (the pane's menu)")
    parser.add_argument("--code-request", default="find all log files larger than 10 MB")
    parser.add_argument("--checkpoints", type=Path, default=REPO / "checkpoints",
                        help="folder holding cf/ (and bash/ for the code tab; default: the shipped checkpoints)")
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "img", help="where the pictures go")
    parser.add_argument("--frame-ms", type=int, default=700, help="the pane's pace while the GIF is captured")
    parser.add_argument("--gif-ms", type=int, default=110, help="how long the GIF shows each frame")
    parser.add_argument("--code-tab", action=argparse.BooleanOptionalAction, default=True)
    return parser.parse_args(argv)


def element_clip(browser: Browser, selector: str, margin: int = 4) -> dict:
    box = browser.evaluate(f"""(() => {{ const r = document.querySelector({selector!r}).getBoundingClientRect();
        return {{x: r.left + window.scrollX, y: r.top + window.scrollY, w: r.width, h: r.height}}; }})()""")
    return {"x": max(0, box["x"] - margin), "y": max(0, box["y"] - margin), "width": box["w"] + 2 * margin,
            "height": box["h"] + 2 * margin, "scale": 1}


def grab(browser: Browser, clip: dict):
    from PIL import Image
    data = browser.send("Page.captureScreenshot", format="png", clip=clip, captureBeyondViewport=True)["data"]
    return Image.open(io.BytesIO(base64.b64decode(data))).convert("RGB")


def generate(browser: Browser, selector: str, request: str, k: int | None = None, k_selector: str = "#k") -> None:
    browser.evaluate(f"document.querySelector({selector!r}).value = ''")
    browser.type(selector, request)
    if k is not None:
        browser.evaluate(f"document.querySelector({k_selector!r}).value = '{k}'")
    browser.press("Enter", "ctrl")


def capture_denoising(browser: Browser, args) -> tuple[list, list[dict], "Image"]:
    """One picture of the denoising card per streamed frame, and the pane mid-way."""
    grab(browser, element_clip(browser, "#ask"))         # the first capture is the slowest: not during the stream
    generate(browser, "#request", args.request, args.k)
    browser.wait_for("!document.getElementById('denoise').hidden && " + FRAMES + " > 0", timeout=180, interval=0.01)
    pictures, seen, middle = [], 0, None
    while True:
        count = browser.evaluate(FRAMES)
        if count > seen:
            clip = element_clip(browser, "#denoise")
            picture = grab(browser, clip)
            if browser.evaluate(FRAMES) == count:          # still the frame it was taken for
                pictures.append((count, picture))
            else:
                print(f"frame {count} went by before its picture was taken: raise --frame-ms", file=sys.stderr)
            seen = count
            if middle is None and count >= 8:
                middle = grab(browser, {"x": 0, "y": 0, "width": WIDTH, "height": HEIGHT, "scale": 1})
        if browser.evaluate(DONE):
            break
        time.sleep(0.02)
    frames = browser.evaluate("window.__cfFrames")
    return pictures, frames, middle


def save_gif(pictures: list, path: Path, frame_ms: int) -> None:
    from PIL import Image
    width = max(p.width for _, p in pictures)
    height = max(p.height for _, p in pictures)
    canvas = []
    for _, picture in pictures:       # cards grow as lines lengthen: one size for all, top-left aligned
        frame = Image.new("RGB", (width, height), "white")
        frame.paste(picture, (0, 0))
        canvas.append(frame.quantize(colors=64, method=Image.Quantize.MEDIANCUT))
    durations = [frame_ms] * (len(canvas) - 1) + [2500]   # hold the answer
    canvas[0].save(path, save_all=True, append_images=canvas[1:], duration=durations, loop=0, optimize=True)


def main(argv=None) -> int:
    args = parse_args(argv)
    if find_chromium() is None:
        raise SystemExit("no Chromium found: apt-get install chromium, or set CF_CHROMIUM=/path/to/chrome")
    if not (args.checkpoints / "cf" / "config.json").is_file():
        raise SystemExit(f"no cf checkpoint at {args.checkpoints / 'cf'}: train one or pass --checkpoints")
    code_tab = args.code_tab and (args.checkpoints / "bash" / "config.json").is_file()
    args.out.mkdir(parents=True, exist_ok=True)
    env = {"CF_SERVICE_CHECKPOINTS": str(args.checkpoints.resolve()), "CF_TASKS": "cf,bash" if code_tab else "cf",
           "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "CF_REQUEST_TIMEOUT_S": "120"}
    started = time.monotonic()
    with LiveServer(workers=1, env=env) as server:
        print(f"gunicorn ready on {server.base_url} in {time.monotonic() - started:.1f} s")
        url = f"{server.base_url}/taskpane/?frame_ms={args.frame_ms}"
        with Browser(url, width=WIDTH, height=HEIGHT) as browser:
            browser.wait_for("document.getElementById('health').classList.contains('ready')", timeout=300)
            pictures, frames, middle = capture_denoising(browser, args)
            rules = browser.evaluate("[...document.querySelectorAll('#results > li code.rule')].map(e => e.textContent)")
            distinct = len({tuple(f["codes"]) for f in frames})
            print(f"{len(frames)} frames streamed ({distinct} different), {len(pictures)} captured; "
                  f"last frame {frames[-1]['codes']}; listed {rules}")
            if frames[-1]["codes"] != rules:
                raise SystemExit("the last frame is not the list of candidates")
            save_gif(pictures, args.out / "denoising.gif", args.gif_ms)
            print(f"wrote {args.out / 'denoising.gif'}")
            if middle is not None:
                middle.save(args.out / "taskpane-denoising.png")
                print(f"wrote {args.out / 'taskpane-denoising.png'}")
            time.sleep(0.3)                                  # let the previews' fills paint
            browser.screenshot(str(args.out / "taskpane.png"))
            status = browser.evaluate("document.getElementById('status').textContent")
            print(f"wrote {args.out / 'taskpane.png'}: {status}")
            if code_tab:
                browser.click("#tab-code")
                generate(browser, "#code-request", args.code_request)
                browser.wait_for("document.getElementById('code-step').textContent.startsWith('done') && "
                                 "!document.getElementById('code-generate').disabled", timeout=180)
                time.sleep(0.2)
                browser.screenshot(str(args.out / "taskpane-code.png"))
                codes = browser.evaluate("[...document.querySelectorAll('#code-results code.rule')].map(e => e.textContent)")
                print(f"wrote {args.out / 'taskpane-code.png'}: {codes}")
            if browser.exceptions:
                raise SystemExit(f"the page threw: {browser.exceptions}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
