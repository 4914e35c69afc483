"""A lean headless-Chromium driver over the Chrome DevTools Protocol (websocket-client only).

Starts `chromium --headless` on a page, connects to the page's DevTools websocket and offers
what the browser tests need: evaluate JavaScript, wait for a condition, type, click like a
user (real mouse events at the element's centre), and take screenshots. No browser download:
it uses the system's Chromium (Debian package `chromium`).
"""
from __future__ import annotations

import base64
import itertools
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
import urllib.request

import websocket

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "chrome")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-default-apps", "--disable-extensions", "--mute-audio", "--hide-scrollbars",
         "--remote-allow-origins=*", "--remote-debugging-port=0"]


def find_chromium() -> str | None:
    explicit = os.environ.get("CF_CHROMIUM")
    if explicit:
        return explicit
    for name in CHROMIUM_NAMES:
        path = shutil.which(name)
        if path:
            return path
    return None


class CdpError(RuntimeError):
    pass


class Browser:
    def __init__(self, url: str, *, width: int = 400, height: int = 900, timeout: float = 30.0):
        executable = find_chromium()
        if executable is None:
            raise CdpError("no Chromium on PATH")
        self.profile = tempfile.mkdtemp(prefix="cf-chromium-")
        self.process = subprocess.Popen(
            [executable, *FLAGS, f"--user-data-dir={self.profile}", f"--window-size={width},{height}", url],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        self._ids = itertools.count(1)
        self.console: list[str] = []
        self.exceptions: list[str] = []
        self.routes: dict[str, tuple[str, str]] = {}   # URL prefix -> (content type, body)
        self._answers: dict[int, dict] = {}
        try:
            port = self._devtools_port(timeout)
            self.ws = websocket.create_connection(self._page_socket(port, timeout), timeout=timeout,
                                                  suppress_origin=True)
            self.send("Runtime.enable")
            self.send("Page.enable")
            self.send("Emulation.setDeviceMetricsOverride",
                      width=width, height=height, deviceScaleFactor=1, mobile=False)
        except Exception:
            self.close()
            raise

    # -- start-up
    def _devtools_port(self, timeout: float) -> int:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            line = self.process.stderr.readline()
            if not line and self.process.poll() is not None:
                raise CdpError(f"chromium exited with {self.process.returncode}")
            match = re.search(r"DevTools listening on ws://[^:]+:(\d+)/", line)
            if match:
                return int(match.group(1))
        raise CdpError("chromium did not report its DevTools port")

    def _page_socket(self, port: int, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=5) as response:
                targets = json.loads(response.read())
            pages = [t for t in targets if t.get("type") == "page" and t.get("webSocketDebuggerUrl")]
            if pages:
                return pages[0]["webSocketDebuggerUrl"]
            time.sleep(0.1)
        raise CdpError("no page target appeared")

    # -- protocol
    def send(self, method: str, **params):
        message_id = next(self._ids)
        self.ws.send(json.dumps({"id": message_id, "method": method, "params": params}))
        # an event handler may send commands of its own while we wait, and read our answer
        # meanwhile: answers to any id are parked in self._answers
        while message_id not in self._answers:
            message = json.loads(self.ws.recv())
            if "id" in message:
                self._answers[message["id"]] = message
            else:
                self._event(message)
        message = self._answers.pop(message_id)
        if "error" in message:
            raise CdpError(f"{method}: {message['error']}")
        return message.get("result", {})

    def _event(self, message: dict) -> None:
        method = message.get("method")
        if method == "Runtime.consoleAPICalled":
            args = message["params"].get("args", [])
            self.console.append(" ".join(str(a.get("value", a.get("description", ""))) for a in args))
        elif method == "Runtime.exceptionThrown":
            details = message["params"]["exceptionDetails"]
            self.exceptions.append(details.get("exception", {}).get("description") or details.get("text", ""))
        elif method == "Fetch.requestPaused":
            self._answer(message["params"])

    # -- network: requests to routed URLs are answered locally, everything else goes through
    def route(self, prefix: str, content_type: str, body: str) -> None:
        """Answer requests whose URL starts with `prefix` with `body` (e.g. a stand-in Office.js)."""
        self.routes[prefix] = (content_type, body)
        self.send("Fetch.enable", patterns=[{"urlPattern": p + "*"} for p in self.routes])

    def _answer(self, params: dict) -> None:
        url = params["request"]["url"]
        for prefix, (content_type, body) in self.routes.items():
            if url.startswith(prefix):
                self.send("Fetch.fulfillRequest", requestId=params["requestId"], responseCode=200,
                          responseHeaders=[{"name": "Content-Type", "value": content_type}],
                          body=base64.b64encode(body.encode()).decode())
                return
        self.send("Fetch.continueRequest", requestId=params["requestId"])

    def navigate(self, url: str) -> None:
        self.send("Page.navigate", url=url)

    def evaluate(self, expression: str, *, await_promise: bool = False):
        result = self.send("Runtime.evaluate", expression=expression, returnByValue=True,
                           awaitPromise=await_promise)
        if "exceptionDetails" in result:
            raise CdpError(f"{expression[:80]}: {result['exceptionDetails'].get('exception', {}).get('description')}")
        return result["result"].get("value")

    def wait_for(self, expression: str, *, timeout: float = 20.0, interval: float = 0.05):
        deadline, last_error = time.monotonic() + timeout, None
        while time.monotonic() < deadline:
            try:
                value = self.evaluate(expression)
            except CdpError as err:       # e.g. the page is still loading: try again
                value, last_error = None, err
            if value:
                return value
            time.sleep(interval)
        raise CdpError(f"timed out after {timeout:g} s waiting for: {expression}"
                       + (f" (last error: {last_error})" if last_error else ""))

    # -- user actions
    def click(self, selector: str) -> None:
        box = self.evaluate(f"""(() => {{
            const el = document.querySelector({json.dumps(selector)});
            if (!el) return null;
            el.scrollIntoView({{block: 'center'}});
            const r = el.getBoundingClientRect();
            return {{x: r.left + r.width / 2, y: r.top + r.height / 2}};
        }})()""")
        if box is None:
            raise CdpError(f"no element matches {selector}")
        for kind in ("mouseMoved", "mousePressed", "mouseReleased"):
            self.send("Input.dispatchMouseEvent", type=kind, x=box["x"], y=box["y"], button="left", clickCount=1)

    def type(self, selector: str, text: str) -> None:
        self.evaluate(f"document.querySelector({json.dumps(selector)}).focus()")
        self.send("Input.insertText", text=text)

    KEYS = {"Enter": (13, "\r"), "Tab": (9, ""), " ": (32, " "), "ArrowRight": (39, ""), "ArrowLeft": (37, ""),
            "Home": (36, ""), "End": (35, ""), "Escape": (27, "")}
    MODIFIERS = {"alt": 1, "ctrl": 2, "meta": 4, "shift": 8}

    def press(self, key: str, *modifiers: str) -> None:
        """One key press on the focused element as a keyboard sends it (keyDown, then keyUp), so the page's
        handlers and the browser's default actions (Tab moves focus, Enter/Space click a button) both run."""
        code, text = self.KEYS[key]
        mask = sum(self.MODIFIERS[m] for m in modifiers)
        name = "Space" if key == " " else key
        down = {"type": "keyDown" if text and not mask else "rawKeyDown", "key": key, "code": name,
                "windowsVirtualKeyCode": code, "nativeVirtualKeyCode": code, "modifiers": mask}
        if text and not mask:
            down.update(text=text, unmodifiedText=text)
        self.send("Input.dispatchKeyEvent", **down)
        self.send("Input.dispatchKeyEvent", type="keyUp", key=key, code=name, windowsVirtualKeyCode=code,
                  nativeVirtualKeyCode=code, modifiers=mask)

    def screenshot(self, path: str, *, full_page: bool = True) -> None:
        params = {"format": "png"}
        if full_page:
            size = self.evaluate("({w: document.documentElement.scrollWidth, h: document.documentElement.scrollHeight})")
            params.update(captureBeyondViewport=True,
                          clip={"x": 0, "y": 0, "width": size["w"], "height": size["h"], "scale": 1})
        data = self.send("Page.captureScreenshot", **params)["data"]
        with open(path, "wb") as handle:
            handle.write(base64.b64decode(data))

    def close(self) -> None:
        try:
            if getattr(self, "ws", None) is not None:
                self.ws.close()
        finally:
            if self.process.poll() is None:
                self.process.terminate()
                try:
                    self.process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    self.process.kill()
                    self.process.wait()
            if self.process.stderr:
                self.process.stderr.close()
            shutil.rmtree(self.profile, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
