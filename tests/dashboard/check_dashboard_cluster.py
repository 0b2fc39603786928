#!/usr/bin/python3
"""A cluster collector's dashboard in a real browser (issue 13: "a cluster collector's
page shows nodes up/down").

Starts two metron-cluster-node processes and a metron-cluster-collector merging them,
opens the collector's dashboard in headless Chromium and asserts on the DOM: both
nodes listed as up and merged series shown; then kills one node (SIGKILL) and waits
for the page to show it down while the other stays up. Every process started here is
stopped by its PID. Every wait is bounded; the run takes about 10 s.
Usage: check_dashboard_cluster.py NODE_BINARY COLLECTOR_BINARY
"""
import os
import re
import signal
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from browser import fail, start_browser, step  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402


def start(argv, pattern, limit=30):
    """Starts argv; returns (process, first match of pattern in its stdout)."""
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    found = []
    ready = threading.Event()

    def read():
        for line in proc.stdout:  # also drains the pipe for the rest of the run
            m = re.search(pattern, line)
            if m and not found:
                found.append(m.group(1))
                ready.set()
        ready.set()

    threading.Thread(target=read, daemon=True).start()
    if not ready.wait(limit) or not found:
        proc.kill()
        fail("%s printed no line matching /%s/ within %d s" % (argv[0], pattern, limit))
    return proc, found[0]


NODES_JS = """return [...document.querySelectorAll('#nodes li')]
                .map(li => [li.textContent, li.dataset.up, li.offsetParent !== null]);"""


def main():
    if len(sys.argv) != 3:
        fail("usage: check_dashboard_cluster.py NODE_BINARY COLLECTOR_BINARY")
    node_bin, collector_bin = sys.argv[1], sys.argv[2]
    procs, driver = [], None
    try:
        ports = []
        for _ in range(2):
            p, port = start([node_bin, "--threads", "1", "--seconds", "60", "--interval-ms", "100"],
                            r"publishing on 127\.0\.0\.1:([0-9]+)")
            procs.append(p)
            ports.append(port)
        nodes = ["127.0.0.1:" + p for p in ports]
        collector, url = start([collector_bin, "--prometheus-port", "0", "--seconds", "60", "--print-ms", "5000"]
                               + nodes, r"Prometheus on (http://127\.0\.0\.1:[0-9]+/)metrics")
        procs.append(collector)
        step("nodes %s and the collector (%s) started" % (nodes, url))

        driver = start_browser(1200, 900)
        driver.get(url)
        want_up = sorted([[n + " up", "1", True] for n in nodes])
        WebDriverWait(driver, 20, 0.05).until(lambda d: sorted(d.execute_script(NODES_JS)) == want_up)
        merged = driver.execute_script(
            "return [...document.querySelectorAll('#counter-rows tr')].map(e => e.dataset.name)")
        if "cluster_requests_total" not in merged:
            fail("merged counters shown: %s" % merged)
        step("both nodes shown up, merged series shown")

        procs[1].send_signal(signal.SIGKILL)
        procs[1].wait()
        want = sorted([[nodes[0] + " up", "1", True], [nodes[1] + " down", "0", True]])
        try:
            WebDriverWait(driver, 20, 0.05).until(lambda d: sorted(d.execute_script(NODES_JS)) == want)
        except Exception:
            fail("after killing %s the page shows %s" % (nodes[1], driver.execute_script(NODES_JS)))
        step("the killed node is shown down")
        print("dashboard cluster: ok")
    finally:
        if driver is not None:
            driver.quit()
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()


if __name__ == "__main__":
    main()
