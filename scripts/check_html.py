#!/usr/bin/env python3
"""Open an HTML report in headless Chromium; report console errors and images that fail to load.

    python scripts/check_html.py runs/quickstart/report/index.html [--screenshot shot.png]

Talks to Chromium over the DevTools protocol on a pipe (`--remote-debugging-pipe`: commands on
fd 3, replies on fd 4, each message JSON ended by a NUL byte), so it needs no port, no network and
no Python package beyond the standard library. It loads the page from disk (file://), waits for
the load event, then collects:
  - console errors: `Runtime.consoleAPICalled` (error / assert), `Runtime.exceptionThrown`, and
    `Log.entryAdded` at level error (where Chromium reports failed resource loads);
  - failed requests: `Network.loadingFailed`;
  - every <img>: loaded only if `complete && naturalWidth > 0` in the page;
  - every local href / src in the HTML: the file exists next to the page.
Exit code 0: clean; 1: problems found (listed one per line); 2: bad input (no file, no Chromium).
Chromium is the Debian package `chromium` (`apt-get install -y chromium`).
"""

from __future__ import annotations

import argparse
import base64
import fcntl
import html.parser
import json
import os
import select
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import unquote, urlparse

CHROMIUM_FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--no-default-browser-check",
    "--disable-extensions", "--mute-audio", "--remote-debugging-pipe",
)
IMAGES_JS = ("JSON.stringify(Array.from(document.images).map(i => ({src: i.currentSrc || i.src, "
             "ok: i.complete && i.naturalWidth > 0, w: i.naturalWidth, h: i.naturalHeight})))")


class Pipe:
    """The DevTools pipe: send(method, params, session) -> result, collecting events meanwhile."""

    def __init__(self, write_fd: int, read_fd: int, deadline: float) -> None:
        self.write_fd, self.read_fd, self.deadline = write_fd, read_fd, deadline
        self.buffer = b""
        self.events: list[dict] = []
        self.next_id = 0

    def send(self, method: str, params: dict | None = None, session: str | None = None) -> dict:
        self.next_id += 1
        message = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self.write_fd, json.dumps(message).encode() + b"\0")
        while True:
            reply = self._read(self.deadline)
            if reply is None:
                raise TimeoutError(f"no reply to {method}")
            if reply.get("id") == self.next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error'].get('message')}")
                return reply.get("result", {})
            self.events.append(reply)

    def wait_event(self, method: str, until: float) -> bool:
        while not any(e.get("method") == method for e in self.events):
            event = self._read(until)
            if event is None:
                return False
            self.events.append(event)
        return True

    def drain(self, seconds: float) -> None:
        until = time.monotonic() + seconds
        while (event := self._read(until)) is not None:
            self.events.append(event)

    def _read(self, until: float) -> dict | None:
        while b"\0" not in self.buffer:
            left = until - time.monotonic()
            if left <= 0 or not select.select([self.read_fd], [], [], left)[0]:
                return None
            chunk = os.read(self.read_fd, 1 << 16)
            if not chunk:
                raise RuntimeError("Chromium closed the DevTools pipe (crashed or exited)")
            self.buffer += chunk
        message, self.buffer = self.buffer.split(b"\0", 1)
        return json.loads(message)


class _Links(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.targets: list[str] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        for name, value in attrs:
            if name in ("src", "href") and value:
                self.targets.append(value)


def missing_local_files(page: Path) -> list[str]:
    parser = _Links()
    parser.feed(page.read_text(encoding="utf-8"))
    problems = []
    for target in parser.targets:
        url = urlparse(target)
        if url.scheme in ("http", "https", "data", "mailto") or target.startswith("#"):
            if url.scheme in ("http", "https"):
                problems.append(f"external resource (the page must be self-contained): {target}")
            continue
        if not (page.parent / unquote(url.path)).is_file():
            problems.append(f"link to a missing file: {target}")
    return problems


def _above(fd: int, minimum: int) -> int:
    """The same pipe end moved to a descriptor >= minimum."""
    moved = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, minimum)
    os.close(fd)
    return moved


def _launch(chromium: str, profile: str) -> tuple[subprocess.Popen, int, int]:
    cmd_r, cmd_w = os.pipe()  # we write commands, Chromium reads them on its fd 3
    res_r, res_w = os.pipe()  # Chromium writes replies on its fd 4, we read them
    cmd_r, res_w = _above(cmd_r, 10), _above(res_w, 10)  # never 3 or 4 themselves: no clash below

    def onto_3_and_4() -> None:  # in the child, before exec; dup2 leaves 3 and 4 inheritable
        os.dup2(cmd_r, 3)
        os.dup2(res_w, 4)

    # close_fds=False: subprocess would close 3 and 4 after this hook; Python's own descriptors are
    # non-inheritable (PEP 446), so nothing else leaks into Chromium.
    proc = subprocess.Popen([chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "about:blank"],
                            preexec_fn=onto_3_and_4, close_fds=False, stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(cmd_r)
    os.close(res_w)
    return proc, cmd_w, res_r


def _console_problems(events: list[dict]) -> list[str]:
    problems = []
    for event in events:
        method, params = event.get("method"), event.get("params", {})
        if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            text = " ".join(str(a.get("value", a.get("description", ""))) for a in params.get("args", []))
            problems.append(f"console.{params['type']}: {text}")
        elif method == "Runtime.exceptionThrown":
            details = params.get("exceptionDetails", {})
            problems.append(f"uncaught exception: {details.get('exception', {}).get('description') or details.get('text')}")
        elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
            entry = params["entry"]
            problems.append(f"console error ({entry.get('source')}): {entry.get('text')} {entry.get('url', '')}".rstrip())
        elif method == "Network.loadingFailed" and not params.get("canceled"):
            problems.append(f"request failed: {params.get('errorText')} (request {params.get('requestId')})")
    return problems


def check(page: Path, chromium: str, timeout: float, screenshot: Path | None) -> tuple[list[str], list[dict]]:
    """(problems, images) for the page; raises TimeoutError / RuntimeError if Chromium misbehaves."""
    with tempfile.TemporaryDirectory(prefix="check_html_") as profile:
        proc, write_fd, read_fd = _launch(chromium, profile)
        try:
            pipe = Pipe(write_fd, read_fd, time.monotonic() + timeout)
            target = pipe.send("Target.createTarget", {"url": "about:blank"})["targetId"]
            session = pipe.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
            for domain in ("Page", "Runtime", "Log", "Network"):
                pipe.send(f"{domain}.enable", {}, session)
            pipe.send("Emulation.setDeviceMetricsOverride",
                      {"width": 1280, "height": 900, "deviceScaleFactor": 1, "mobile": False}, session)
            pipe.send("Page.navigate", {"url": page.resolve().as_uri()}, session)
            if not pipe.wait_event("Page.loadEventFired", time.monotonic() + timeout):
                return [f"page did not finish loading within {timeout:.0f} s"], []
            pipe.drain(0.5)  # late console messages
            images = json.loads(pipe.send("Runtime.evaluate", {"expression": IMAGES_JS, "returnByValue": True}, session)["result"]["value"])
            if screenshot is not None:
                shot = pipe.send("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True}, session)
                screenshot.write_bytes(base64.b64decode(shot["data"]))
            pipe.send("Browser.close")
        finally:
            os.close(write_fd)
            os.close(read_fd)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    problems = _console_problems(pipe.events)
    problems += [f"image failed to load: {img['src']}" for img in images if not img["ok"]]
    return problems, images


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     epilog="example: python scripts/check_html.py /tmp/report/index.html --screenshot /tmp/shot.png")
    parser.add_argument("page", type=Path, help="the index.html to open")
    parser.add_argument("--chromium", default=None, help="browser binary (default: chromium on PATH)")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds for the whole check")
    parser.add_argument("--screenshot", type=Path, default=None, help="also save a full-page PNG screenshot")
    args = parser.parse_args(argv)
    if not args.page.is_file():
        print(f"check_html: error: {args.page}: file not found; give the path of an index.html", file=sys.stderr)
        return 2
    chromium = args.chromium or shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        print("check_html: error: chromium not found; install it with `apt-get install -y chromium` or pass --chromium",
              file=sys.stderr)
        return 2
    problems = missing_local_files(args.page)
    browser_problems, images = check(args.page, chromium, args.timeout, args.screenshot)
    problems += browser_problems
    loaded = sum(img["ok"] for img in images)
    for problem in problems:
        print("PROBLEM " + " ".join(problem.split()))
    print(f"{args.page}: {len(images)} images, {loaded} loaded; {len(problems)} problem(s)"
          + (f"; screenshot {args.screenshot}" if args.screenshot else ""))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
