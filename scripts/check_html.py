#!/usr/bin/env python3
"""Open an HTML report in headless Chromium at 1280 px and at a 390 px phone width; report console
errors, images that fail to load, anything cut off, broken anchors and tables that do not sort.

    python scripts/check_html.py runs/quickstart/report/index.html [--screenshot shot.png]

Talks to Chromium over the DevTools protocol on a pipe (`--remote-debugging-pipe`: commands on
fd 3, replies on fd 4, each message JSON ended by a NUL byte), so it needs no port, no network and
no Python package beyond the standard library. It loads the page from disk (file://), waits for
the load event, then collects:
  - console errors: `Runtime.consoleAPICalled` (error / assert), `Runtime.exceptionThrown`, and
    `Log.entryAdded` at level error (where Chromium reports failed resource loads);
  - failed requests: `Network.loadingFailed`;
  - every <img>: loaded only if `complete && naturalWidth > 0` in the page;
  - every local href / src in the HTML: the file exists next to the page;
  - at each width in WIDTHS (the phone one with mobile emulation, so the viewport meta applies): the
    page is no wider than the viewport, and no element reaches past its edge or is clipped by an
    overflow-hidden box unless it sits in a box that scrolls (a wide table scrolls in its own box:
    nothing is lost); the first MAX_LISTED offenders are named;
  - every in-page link (href="#id") has its target;
  - each table with sort buttons (musebench/report/page.py): clicking a numeric column's header sorts
    its rows ascending by the leading number, a second click descending, missing values last.
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
WIDTHS = (1280, 390)  # a laptop and a phone (iPhone 12-15 CSS width), as issue 22 asks
MAX_LISTED = 8  # layout offenders named per width
LAYOUT_JS = """JSON.stringify((function () {
  var W = document.documentElement.clientWidth, out = [], seen = [];
  function name(el) {
    var text = (el.textContent || el.getAttribute("src") || "").trim().replace(/\\s+/g, " ").slice(0, 40);
    return "<" + el.tagName.toLowerCase() + (el.id ? " id=" + el.id : "") + (el.className ? " class=" + el.className : "") + "> \\"" + text + "\\"";
  }
  function inScroller(el) {
    for (var p = el.parentElement; p && p !== document.body; p = p.parentElement) {
      var o = getComputedStyle(p).overflowX;
      if (o === "auto" || o === "scroll") return true;
    }
    return false;
  }
  function under(el) { return seen.some(function (s) { return s.contains(el); }); }
  if (document.documentElement.scrollWidth > W + 1)
    out.push("the page is " + document.documentElement.scrollWidth + " px wide in a " + W + " px viewport");
  document.body.querySelectorAll("*").forEach(function (el) {
    var r = el.getBoundingClientRect();
    if (!r.width || !r.height || under(el) || inScroller(el)) return;
    var style = getComputedStyle(el), clipped = /hidden|clip/.test(style.overflowX) && el.scrollWidth > el.clientWidth + 1;
    if (r.right > W + 1 || r.left < -1 || clipped) {
      seen.push(el);
      out.push(name(el) + (clipped ? " clips its content" : " reaches " + Math.round(r.left) + ".." + Math.round(r.right) + " px"));
    }
  });
  document.querySelectorAll("a[href^='#']").forEach(function (a) {
    var id = decodeURIComponent(a.getAttribute("href").slice(1));
    if (id && !document.getElementById(id)) out.push("in-page link to a missing anchor: #" + id);
  });
  return out;
})())"""
SORT_JS = """JSON.stringify((function () {
  var out = [];
  function lead(cell) { var m = /^[-+]?(\\d+\\.?\\d*|\\.\\d+)(e[-+]?\\d+)?/i.exec(cell ? cell.textContent.trim() : ""); return m ? parseFloat(m[0]) : null; }
  document.querySelectorAll("table").forEach(function (table, t) {
    var buttons = table.tHead ? table.tHead.querySelectorAll("button.sort") : [];
    if (!buttons.length) { out.push("table " + (t + 1) + " has no sort buttons"); return; }
    var rows = table.tBodies[0].rows, col = -1;
    for (var c = 0; c < buttons.length && col < 0; c++) {
      var numeric = 0;
      for (var i = 0; i < rows.length; i++) if (lead(rows[i].cells[c]) !== null) numeric++;
      if (numeric >= 2) col = c;
    }
    if (col < 0) return;  // nothing numeric to order
    [1, -1].forEach(function (sign) {
      buttons[col].click();
      var values = Array.prototype.map.call(table.tBodies[0].rows, function (r) { return lead(r.cells[col]); });
      var numbers = values.filter(function (v) { return v !== null; });
      var last = values.lastIndexOf(null) < 0 || values.slice(values.indexOf(null)).every(function (v) { return v === null; });
      var ordered = numbers.every(function (v, i) { return i === 0 || sign * (v - numbers[i - 1]) >= 0; });
      if (!ordered || !last) out.push("table " + (t + 1) + " column " + (col + 1) + " did not sort " + (sign > 0 ? "ascending" : "descending"));
    });
  });
  return out;
})())"""
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
    """Console and network problems, each once (the page loads once per width)."""
    problems = []
    urls = {e["params"].get("requestId"): e["params"].get("request", {}).get("url", "")
            for e in events if e.get("method") == "Network.requestWillBeSent"}
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
            problems.append(f"request failed: {params.get('errorText')} {urls.get(params.get('requestId'), '')}".rstrip())
    return list(dict.fromkeys(problems))


def check(page: Path, chromium: str, timeout: float, screenshot: Path | None) -> tuple[list[str], list[dict]]:
    """(problems, images) for the page at every width in WIDTHS; raises TimeoutError / RuntimeError if
    Chromium misbehaves. With `screenshot`, the 1280 px page goes there and the phone one next to it."""
    problems: list[str] = []
    with tempfile.TemporaryDirectory(prefix="check_html_") as profile:
        proc, write_fd, read_fd = _launch(chromium, profile)
        try:
            pipe = Pipe(write_fd, read_fd, time.monotonic() + timeout)
            target = pipe.send("Target.createTarget", {"url": "about:blank"})["targetId"]
            session = pipe.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
            for domain in ("Page", "Runtime", "Log", "Network"):
                pipe.send(f"{domain}.enable", {}, session)

            def evaluate(expression: str):
                return json.loads(pipe.send("Runtime.evaluate", {"expression": expression, "returnByValue": True},
                                            session)["result"]["value"])

            for width in WIDTHS:
                pipe.send("Emulation.setDeviceMetricsOverride",
                          {"width": width, "height": 900, "deviceScaleFactor": 1, "mobile": width < 600}, session)
                pipe.events = [e for e in pipe.events if e.get("method") != "Page.loadEventFired"]
                pipe.send("Page.navigate", {"url": page.resolve().as_uri()}, session)
                if not pipe.wait_event("Page.loadEventFired", time.monotonic() + timeout):
                    return [f"page did not finish loading within {timeout:.0f} s at {width} px"], []
                pipe.drain(0.5)  # late console messages
                layout = evaluate(LAYOUT_JS)
                problems += [f"at {width} px: {p}" for p in layout[:MAX_LISTED]]
                if len(layout) > MAX_LISTED:
                    problems.append(f"at {width} px: {len(layout) - MAX_LISTED} more layout problem(s)")
                if width == WIDTHS[0]:
                    images = evaluate(IMAGES_JS)
                if screenshot is not None:
                    path = screenshot if width == WIDTHS[0] else screenshot.with_name(f"{screenshot.stem}-{width}{screenshot.suffix}")
                    shot = pipe.send("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True}, session)
                    path.write_bytes(base64.b64decode(shot["data"]))
            problems += evaluate(SORT_JS)  # last: it reorders the rows
            pipe.send("Browser.close")
        finally:
            os.close(write_fd)
            os.close(read_fd)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    problems = _console_problems(pipe.events) + problems
    problems += [f"image failed to load: {img['src']}" for img in images if not img["ok"]]
    return problems, images


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     epilog="example: python scripts/check_html.py /tmp/report/index.html --screenshot /tmp/shot.png")
    parser.add_argument("page", type=Path, help="the index.html to open")
    parser.add_argument("--chromium", default=None, help="browser binary (default: chromium on PATH)")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds for the whole check")
    parser.add_argument("--screenshot", type=Path, default=None,
                        help="also save full-page PNG screenshots: this path at 1280 px, NAME-390.png beside it")
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
