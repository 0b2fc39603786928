#!/usr/bin/python3
"""The demo's dashboard in a real browser (issue 13).

Starts metron-demo on a free port, reads the dashboard address from its first line,
opens it in headless Chromium through Selenium and asserts on the rendered DOM:
  - every route's latency histogram and the request counters are shown;
  - the p99 the page shows equals /metrics.json's for the same tick (data-value, the
    exact number) and its text is that number rounded to 3 significant digits;
  - the heatmap and the quantile plot have been drawn (non-empty canvas pixels);
  - a second update arrives (the tick number grows);
  - the name-prefix filter hides the other series;
  - the page is one more subscriber of the monitor (metron_subscribers), and closing
    the browser unsubscribes it.
Saves a screenshot (--screenshot PATH; --settle SECONDS waits that long before it, for
a fuller picture). Every wait is bounded; the whole run takes about 12 s.
Usage: check_dashboard.py METRON_DEMO [--screenshot PATH [--settle SECONDS]]
"""
import os
import re
import signal
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from browser import fail, fetch_json, start_browser, step, wait_until  # noqa: E402
from selenium.webdriver.common.action_chains import ActionChains  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

ROUTES = ["GET /api/users/:id", "GET /api/search", "POST /api/orders", "GET /healthz"]


def subscribers(doc):
    for g in doc["gauges"]:
        if g["name"] == "metron_subscribers":
            return g["value"]
    return None


def parse_duration(text):
    m = re.fullmatch(r"([0-9.e+-]+) (ns|\u00b5s|ms|s)", text)
    if not m:
        fail("'%s' is not a duration" % text)
    return float(m.group(1)) * {"ns": 1e-9, "\u00b5s": 1e-6, "ms": 1e-3, "s": 1.0}[m.group(2)]


def main():
    if len(sys.argv) < 2:
        fail("usage: check_dashboard.py METRON_DEMO [--screenshot PATH]")
    demo = sys.argv[1]
    shot = sys.argv[sys.argv.index("--screenshot") + 1] if "--screenshot" in sys.argv else None
    settle = float(sys.argv[sys.argv.index("--settle") + 1]) if "--settle" in sys.argv else 0.0
    started = time.monotonic()
    proc = subprocess.Popen([demo, "--duration", str(50 + settle), "--threads", "2", "--listen", "127.0.0.1:0", "--no-console"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    driver = None
    try:
        first = proc.stdout.readline().rstrip("\n")
        m = re.fullmatch(r"Dashboard: (http://127\.0\.0\.1:[1-9][0-9]*/)  \(open it in a browser\)", first)
        if not m:
            fail("the demo's first line is not the dashboard's address: %r" % first)
        base = m.group(1)
        # Drain the demo's output so it never blocks on a full pipe.
        threading.Thread(target=lambda: [None for _ in proc.stdout], daemon=True).start()

        # The baseline from a report a few ticks in: the first ones may be taken before
        # the demo's own subscribers have subscribed.
        def settled_subscribers():
            doc = fetch_json(base + "metrics.json")
            return subscribers(doc) if doc.get("sequence", 0) >= 3 else None

        baseline = wait_until("a report with metron_subscribers, 3 ticks in", settled_subscribers, 10)

        step('demo serving; starting chromium')
        driver = start_browser()
        step("chromium started; loading the page")
        driver.get(base + "?minutes=1")

        # Live data: the page has drawn ticks and every route's histogram.
        hist_selector = '.hist[data-name="demo_request_duration_seconds"]'
        WebDriverWait(driver, 15, 0.05).until(
            lambda d: d.execute_script("return Number(document.body.dataset.seq)") > 0
            and len(d.find_elements(By.CSS_SELECTOR, hist_selector)) == len(ROUTES))
        step('page has live data')
        shown = driver.execute_script(
            "return [...document.querySelectorAll(arguments[0])].map(e => JSON.parse(e.dataset.labels).route)",
            hist_selector)
        if sorted(shown) != sorted(ROUTES):
            fail("histograms shown for %s, expected %s" % (shown, ROUTES))
        counters = driver.execute_script(
            "return [...document.querySelectorAll('#counter-rows tr')].map(e => e.dataset.name)")
        if "demo_requests_total" not in counters or "demo_errors_total" not in counters:
            fail("counters shown: %s" % counters)
        title = driver.find_element(By.CSS_SELECTOR, hist_selector + " h3").text
        if not title.startswith("demo_request_duration_seconds"):
            fail("histogram title %r" % title)

        # The page is a subscriber of its own (one per connection).
        wait_until("metron_subscribers to count the page (baseline %g)" % baseline,
                   lambda: subscribers(fetch_json(base + "metrics.json")) == baseline + 1, 10)

        step('subscriber counted')
        # p99 of one route: the page's value for tick N equals /metrics.json's for tick N.
        route = "GET /api/search"
        read_p99 = """
          const h = [...document.querySelectorAll(arguments[0])]
            .find(e => JSON.parse(e.dataset.labels).route === arguments[1]);
          const td = h.querySelector('tr[data-row="all"] td[data-q="0.99"]');
          return [Number(document.body.dataset.seq), td.dataset.value, td.textContent];"""
        # /metrics.json is a tick ahead of the page or level with it: fetch it, then watch
        # the page until it reaches that tick (on a busy machine the page lags more).
        matched = None
        for _ in range(40):
            doc = fetch_json(base + "metrics.json")
            deadline = time.monotonic() + 3
            seq, value, text = driver.execute_script(read_p99, hist_selector, route)
            while seq < doc["sequence"] and time.monotonic() < deadline:
                time.sleep(0.005)
                seq, value, text = driver.execute_script(read_p99, hist_selector, route)
            if seq == doc["sequence"]:
                h = next(x for x in doc["histograms"]
                         if x["name"] == "demo_request_duration_seconds" and x["labels"]["route"] == route)
                expected = next(q["value"] for q in h["quantiles"] if q["q"] == 0.99)
                matched = (seq, float(value), text, expected)
                break
        if not matched:
            fail("the page and /metrics.json never showed the same tick")
        seq, value, text, expected = matched
        if value != expected:
            fail("tick %d: page p99 %r, /metrics.json %r" % (seq, value, expected))
        # The text rounds to 3 significant digits: within 0.5% of the exact value.
        if abs(parse_duration(text) - expected) > 0.005 * expected:
            fail("tick %d: page shows %r for p99 %r" % (seq, text, expected))

        step('p99 matched')
        # The canvases have been drawn on.
        painted = """
          const c = document.querySelector(arguments[0] + ' canvas.' + arguments[1]);
          const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
          let n = 0;
          for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++;
          return n;"""
        WebDriverWait(driver, 10, 0.05).until(lambda d: d.execute_script(painted, hist_selector, "heatmap") > 100)
        WebDriverWait(driver, 10, 0.05).until(lambda d: d.execute_script(painted, hist_selector, "lines") > 100)

        # A second update arrives.
        seq0 = driver.execute_script("return Number(document.body.dataset.seq)")
        WebDriverWait(driver, 10, 0.05).until(
            lambda d: d.execute_script("return Number(document.body.dataset.seq)") > seq0)

        if shot:
            time.sleep(settle)  # --settle: more history in the picture (for docs/dashboard.png)
            driver.save_screenshot(shot)

        # Hover shows exact values.
        lines = driver.find_element(By.CSS_SELECTOR, hist_selector + " canvas.lines")
        ActionChains(driver).move_to_element_with_offset(lines, lines.size["width"] // 2 - 2, 0).perform()
        tip = driver.find_element(By.ID, "tooltip")
        WebDriverWait(driver, 5, 0.05).until(lambda d: tip.is_displayed() and "p99" in tip.text)
        ActionChains(driver).move_by_offset(0, 400).perform()

        step('second update, hover, screenshot done')
        # The name-prefix filter.
        box = driver.find_element(By.ID, "filter")
        box.send_keys("demo_errors")
        WebDriverWait(driver, 5, 0.05).until(lambda d: not any(
            e.is_displayed() for e in d.find_elements(By.CSS_SELECTOR, ".hist")))
        visible = [e.get_attribute("data-name") for e in driver.find_elements(By.CSS_SELECTOR, "#counter-rows tr")
                   if e.is_displayed()]
        if not visible or any(n != "demo_errors_total" for n in visible):
            fail("filter demo_errors shows %s" % visible)

        # Closing the page unsubscribes its subscriber.
        driver.quit()
        driver = None
        wait_until("metron_subscribers back to %g after the browser closed" % baseline,
                   lambda: subscribers(fetch_json(base + "metrics.json")) == baseline, 10)

        step('unsubscribed; stopping the demo')
        proc.send_signal(signal.SIGTERM)
        if proc.wait(timeout=15) != 0:
            fail("the demo exited with %d" % proc.returncode)
        print("dashboard: ok (tick %d: p99 %s = %r; %.1f s)" % (seq, text, expected, time.monotonic() - started))
    finally:
        if driver is not None:
            driver.quit()
        if proc.poll() is None:
            proc.kill()
            proc.wait()


if __name__ == "__main__":
    main()
