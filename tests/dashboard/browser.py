"""What the dashboard's browser tests share: failing, bounded waits, fetching JSON, and
headless Chromium through Selenium (Debian's chromium, chromium-driver and
python3-selenium, installed by scripts/install-deps.sh; a missing one fails the test,
it never skips it)."""
import json
import sys
import time
import urllib.request

try:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
except ImportError as e:
    print("FAIL: python3-selenium is missing (scripts/install-deps.sh installs it):", e)
    sys.exit(1)

T0 = time.monotonic()


def step(what):
    print("[%5.1f s] %s" % (time.monotonic() - T0, what), flush=True)


def fail(msg):
    print("FAIL:", msg)
    sys.exit(1)


def fetch_json(url):
    with urllib.request.urlopen(url, timeout=5) as r:
        return json.load(r)


def wait_until(what, pred, limit):
    """Polls pred until it returns something true (returned); fails after `limit` s."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(0.05)
    fail(what + " within %g s" % limit)


def start_browser(width=1360, height=1500):
    """Headless Chromium (as root, as CI runs, it needs --no-sandbox)."""
    opts = webdriver.ChromeOptions()
    opts.binary_location = "/usr/bin/chromium"
    for a in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
              "--window-size=%d,%d" % (width, height), "--force-device-scale-factor=1"]:
        opts.add_argument(a)
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=opts)
    driver.set_page_load_timeout(15)
    return driver
