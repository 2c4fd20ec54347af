#!/usr/bin/python3
"""Drives headless Chromium (or Firefox) through kitt's web UI against a running server.

The Swift test WebUIBrowserTests starts the real server and runs this script; the script
plays the browser user and, with plain HTTPS calls, the fake agent. It prints one
"PASS <scenario>" line per scenario and exits non-zero at the first failure.
Usage: webui.py --url https://localhost:PORT --token ADMIN --ca CA.pem [--browser chromium|firefox]
                 [--screenshots DIR] [--budget SECONDS]
Firefox is driven over its own Marionette protocol (Tests/Browser/marionette.py): Debian has
no geckodriver.
"""
import argparse
import json
import os
import signal
import ssl
import sys
import time
import traceback
import urllib.error
import urllib.request

from selenium import webdriver
from selenium.common.exceptions import NoAlertPresentException, StaleElementReferenceException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select, WebDriverWait

args = argparse.ArgumentParser()
args.add_argument("--url", required=True)
args.add_argument("--token", required=True)
args.add_argument("--ca", required=True)
args.add_argument("--screenshots", default="")
args.add_argument("--browser", default="chromium", choices=["chromium", "firefox"])
args.add_argument("--budget", type=int, default=100)
args.add_argument("--devon", default="", help="the fake Devon the server uses (POST /release ends its download)")
args = args.parse_args()
FIREFOX = args.browser == "firefox"
BASE = args.url.rstrip("/")
TLS = ssl.create_default_context(cafile=args.ca)
HOSTILE = "<script>alert(1)</script>"


def api(method, path, body=None, token=None):
    """One API call as the fake agent / test harness; returns (status, json)."""
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(BASE + path, data=data, method=method)
    req.add_header("Authorization", "Bearer " + (token or args.token))
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, context=TLS, timeout=10) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


def browser():
    if FIREFOX:
        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        import marionette
        binary = "/usr/bin/firefox-esr" if os.path.exists("/usr/bin/firefox-esr") else "/usr/bin/firefox"
        return marionette.Firefox(binary, width=1280, height=900)
    options = webdriver.ChromeOptions()
    for flag in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--ignore-certificate-errors",
                 "--disable-gpu", "--window-size=1280,900"]:
        options.add_argument(flag)
    options.binary_location = "/usr/bin/chromium"
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)


# A stuck run ends itself (and its browser) before the Swift test's own limit.
def out_of_time(signum, frame):
    raise TimeoutError(f"webui.py ran for {args.budget} s")


signal.signal(signal.SIGALRM, out_of_time)
signal.alarm(args.budget)
driver = browser()
# Live regions are swapped whole, so an element found a moment ago may be gone: retry.
wait = WebDriverWait(driver, 10, poll_frequency=0.05, ignored_exceptions=[StaleElementReferenceException])


def passed(name):
    print("PASS " + name, flush=True)


def check(condition, message):
    if not condition:
        raise AssertionError(message)


def go(path):
    driver.get(BASE + path)
    wait.until(lambda d: d.execute_script("return document.readyState") == "complete")


def mark_page():
    """A marker that a reload would erase: proves an update arrived live."""
    driver.execute_script("window.__kittNoReload = 1")


def not_reloaded():
    check(driver.execute_script("return window.__kittNoReload") == 1, "the page reloaded")


def text_of(css):
    return driver.find_element(By.CSS_SELECTOR, css).text


def wait_live():
    wait.until(lambda d: "live" in d.find_element(By.ID, "live-indicator").text)


def set_width(width, height=900):
    """The viewport at `width` CSS px (a phone's below 500); None restores 1280."""
    if FIREFOX:
        driver.set_viewport(width or 1280, height)
    elif width is None:
        driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    else:
        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                               {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 500})


def shoot(name):
    if not args.screenshots:
        return
    prefix = "firefox-" if FIREFOX else ""
    for width, suffix in [(1280, "wide"), (390, "phone")]:
        set_width(width)
        height = driver.execute_script("return document.documentElement.scrollHeight")
        set_width(width, min(max(height, 700), 4000))
        time.sleep(0.2)  # the page relabels its times for the new width (debounced 100 ms)
        driver.save_screenshot(os.path.join(args.screenshots, f"{prefix}{name}-{suffix}.png"))
    set_width(None)


def sign_in_elsewhere():
    """Signs in as another browser would (form token, then the session); returns (cookie, csrf)."""
    with urllib.request.urlopen(BASE + "/signin", context=TLS, timeout=10) as r:
        pre = r.headers["Set-Cookie"].split(";")[0]
    req = urllib.request.Request(BASE + "/ui/signin", data=json.dumps({"token": args.token}).encode(), method="POST")
    req.add_header("Cookie", pre)
    req.add_header("X-CSRF-Token", pre.split("=", 1)[1])
    req.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(req, context=TLS, timeout=10) as r:
        session = [c for c in r.headers.get_all("Set-Cookie") if c.startswith("kitt_session=")][0].split(";")[0]
    with urllib.request.urlopen(urllib.request.Request(BASE + "/settings", headers={"Cookie": session}),
                                context=TLS, timeout=10) as r:
        page = r.read().decode()
    csrf = page.split('name="csrf-token" content="', 1)[1].split('"', 1)[0]
    return session, csrf


def ui_write(browser):
    """A write through the UI's proxy as `browser` (cookie, csrf): the status."""
    session, csrf = browser
    req = urllib.request.Request(BASE + "/ui/sessions/revoke", data=b'{"sessions":["none"]}', method="POST")
    for name, value in [("Cookie", session), ("X-CSRF-Token", csrf), ("Content-Type", "application/json")]:
        req.add_header(name, value)
    try:
        with urllib.request.urlopen(req, context=TLS, timeout=10) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code


def fake_agent_run(agent_id, command, metrics):
    """Plays the agent for one run_test command: running, a log line, a result."""
    test_id, command_id = command["test_id"], command["command_id"]
    payload = command["payload"]
    check(api("POST", f"/api/v1/quicktest/{test_id}/status", {"status": "running"})[0] == 200, "status")
    check(api("POST", f"/api/v1/quicktest/{test_id}/logs", {"line": "loading " + payload["model_path"]})[0] == 200, "log")
    status, body = api("POST", f"/api/v1/agents/{agent_id}/results", {
        "command_id": command_id, "test_id": test_id, "status": "completed",
        "result_data": {
            "model": payload["model_path"], "engine": payload["engine_name"], "suite_name": "quick",
            "timestamp": "2026-11-30T01:00:00Z", "passed": True, "total_benchmarks": 1, "passed_count": 1,
            "failed_count": 0, "total_time_seconds": 3.5, "kitt_version": "1",
            "results": [{"test_name": "throughput", "test_version": "1", "run_number": 1, "passed": True,
                         "metrics": metrics, "errors": []}]}})
    check(status == 202, f"result report: {status} {body}")


try:
    # 1. Reading needs no sign-in; the dashboard says what to do when empty.
    go("/")
    check("No agents yet" in text_of("#dash-agents"), "empty state on the dashboard")
    shoot("dashboard-empty")
    go("/signin")
    shoot("signin")

    # Keyboard: the first Tab reaches the skip link, focus is visibly outlined, and Tab walks the nav.
    go("/")
    ActionChains(driver).send_keys(Keys.TAB).perform()
    focused = driver.switch_to.active_element
    check(focused.get_attribute("class") == "skip", "the first Tab stop is the skip link")
    check(focused.value_of_css_property("outline-style") != "none", "focus is visible")
    ActionChains(driver).send_keys(Keys.TAB).send_keys(Keys.TAB).perform()
    check(driver.switch_to.active_element.text == "Dashboard", "Tab reaches the navigation")
    ActionChains(driver).send_keys(Keys.TAB).send_keys(Keys.ENTER).perform()
    wait.until(lambda d: d.current_url.endswith("/agents"))
    passed("keyboard")

    # The install one-liner follows what is typed, quoted for the shell.
    go("/agents/new")
    driver.find_element(By.ID, "install-name").clear()
    driver.find_element(By.ID, "install-name").send_keys("gpu'7 x")
    driver.find_element(By.ID, "install-engine").send_keys("http://127.0.0.1:8000")
    command = text_of("#install-command")
    check("name=gpu%277%20x&port=8090&engine_url=http%3A%2F%2F127.0.0.1%3A8000' | bash" in command, command)
    shoot("agent-new")
    passed("install-command")

    # 2. Sign in with the admin token.
    go("/signin")
    driver.find_element(By.ID, "token").send_keys("wrong-token")
    driver.find_element(By.CSS_SELECTOR, "#signin-form button[type=submit]").click()
    wait.until(lambda d: "not the admin token" in d.find_element(By.ID, "token-error").text)
    driver.find_element(By.ID, "token").clear()
    driver.find_element(By.ID, "token").send_keys(args.token)
    driver.find_element(By.CSS_SELECTOR, "#signin-form button[type=submit]").click()
    wait.until(lambda d: d.current_url.rstrip("/") == BASE)
    wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "form[data-api='/ui/signout']")))
    cookies = {c["name"]: c for c in driver.get_cookies()}
    check(cookies["kitt_session"]["httpOnly"] and cookies["kitt_session"]["secure"], "session cookie flags")
    check(cookies["kitt_session"].get("sameSite") == "Strict", "SameSite=Strict")
    passed("sign-in")

    # 3. An agent appears and changes status live while the dashboard is open.
    go("/")
    wait_live()
    mark_page()
    check(not driver.find_elements(By.CSS_SELECTOR, "[data-agent='gpu-live']"), "agent already shown")
    status, reg = api("POST", "/api/v1/agents/register", {"name": "gpu-live", "hostname": "gpu-live.lab",
                                                          "gpu_info": "NVIDIA A100", "gpu_count": 2, "cpu_arch": "x86_64"})
    check(status == 201, f"register: {status} {reg}")
    agent_id = reg["agent_id"]
    card = "[data-agent='gpu-live'] .badge"
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, card) and text_of(card) == "online")
    sent = time.monotonic()
    check(api("POST", f"/api/v1/agents/{agent_id}/heartbeat", {"status": "busy"})[0] == 200, "heartbeat")
    wait.until(lambda d: text_of(card) == "busy")
    print(f"LATENCY agent status on the dashboard: {(time.monotonic() - sent) * 1000:.0f} ms", flush=True)
    not_reloaded()
    check("2 × NVIDIA A100" in text_of("[data-agent='gpu-live']"), "GPU shown")
    api("POST", f"/api/v1/agents/{agent_id}/heartbeat", {"status": "idle"})
    passed("agent-live")

    # 4. A quick test from the form, with the format check, then its log arriving live.
    go("/quicktests/new?agent=" + agent_id)
    driver.find_element(By.ID, "devon-q").send_keys("qwen 7b" + Keys.ENTER)
    if args.devon:
        wait.until(lambda d: "1 found" in text_of("#devon-status"))
    else:
        wait.until(lambda d: "Devon is not configured" in text_of("#devon-status"))
    driver.find_element(By.ID, "model_path").send_keys("/models/llama-3-8b.Q4_K_M.gguf")
    Select(driver.find_element(By.ID, "engine_name")).select_by_value("vllm")
    wait.until(lambda d: "does not run gguf" in text_of("[data-format-result]"))
    driver.find_element(By.CSS_SELECTOR, "#quicktest-form button[type=submit]").click()
    # The API's own refusal, shown next to the field it names.
    wait.until(lambda d: "does not support gguf" in d.find_element(By.ID, "engine_name-error").text)
    Select(driver.find_element(By.ID, "engine_name")).select_by_value("llama_cpp")
    wait.until(lambda d: "✓ llama_cpp runs gguf" in text_of("[data-format-result]"))
    shoot("quicktest-new")
    driver.find_element(By.CSS_SELECTOR, "#quicktest-form button[type=submit]").click()
    wait.until(lambda d: "/quicktests/" in d.current_url and "/new" not in d.current_url)
    test_id = driver.current_url.rstrip("/").split("/")[-1]
    wait_live()
    mark_page()
    for i in range(3):
        check(api("POST", f"/api/v1/quicktest/{test_id}/logs", {"line": f"step {i} of the warm-up"})[0] == 200, "log")
    wait.until(lambda d: "step 2 of the warm-up" in text_of("#log"))
    sent = time.monotonic()
    check(api("POST", f"/api/v1/quicktest/{test_id}/logs", {"line": "one more line"})[0] == 200, "log")
    wait.until(lambda d: "one more line" in text_of("#log"))
    print(f"LATENCY log line in the tail: {(time.monotonic() - sent) * 1000:.0f} ms", flush=True)
    check(api("POST", f"/api/v1/quicktest/{test_id}/status", {"status": "running"})[0] == 200, "running")
    wait.until(lambda d: text_of("#qt-status") == "running")
    not_reloaded()
    shoot("quicktest-detail")
    api("POST", f"/api/v1/quicktest/{test_id}/status", {"status": "failed", "error": "stopped by the test"})
    passed("quicktest-live-log")

    # 5. The campaign wizard: 2 models × 1 engine × 1 benchmark, launched, run to the end.
    go("/campaigns/new")
    driver.find_element(By.CSS_SELECTOR, "button[data-chain]").click()
    wait.until(lambda d: d.find_element(By.ID, "name-error").text == "'name' must not be empty")
    check(driver.switch_to.active_element.get_attribute("id") == "name", "focus moves to the field in error")
    driver.find_element(By.ID, "name").send_keys("nightly sweep")
    check(not driver.find_element(By.ID, "name-error").is_displayed(), "the error clears on input")
    Select(driver.find_element(By.ID, "agent")).select_by_value(agent_id)
    driver.find_element(By.ID, "models").send_keys("/models/a.gguf\n/models/b.gguf")
    driver.find_element(By.CSS_SELECTOR, "input[name='config.engines'][value='llama_cpp']").click()
    wait.until(lambda d: "= 2 runs" in text_of("[data-run-count]"))
    shoot("campaign-new")
    driver.find_element(By.CSS_SELECTOR, "button[data-chain]").click()
    wait.until(lambda d: "/campaigns/" in d.current_url and "/new" not in d.current_url)
    campaign_id = driver.current_url.rstrip("/").split("/")[-1]
    wait_live()
    mark_page()
    deadline = time.time() + 20
    metrics = [{"avg_tps": 40.0, "ttft_ms": 120.0}, {"avg_tps": 55.0, "ttft_ms": 90.0}]
    runs = 0
    while time.time() < deadline:
        _, beat = api("POST", f"/api/v1/agents/{agent_id}/heartbeat", {"status": "idle"})
        for command in beat.get("commands", []):
            if command["type"] == "run_test":
                fake_agent_run(agent_id, command, metrics[runs % 2])
                runs += 1
        if api("GET", f"/api/v1/campaigns/{campaign_id}")[1]["status"] in ("completed", "failed"):
            break
        time.sleep(0.05)
    wait.until(lambda d: "completed" in text_of("#campaign-progress h2"))
    wait.until(lambda d: "2 of 2 runs" in text_of("#campaign-progress"))
    not_reloaded()
    check(runs == 2, f"{runs} runs")
    shoot("campaign-detail")
    passed("campaign-wizard")

    # 5b. Editing a draft's config in the wizard keeps what the form does not show.
    status, draft = api("POST", "/api/v1/campaigns", {"name": "draft to edit", "agent_id": agent_id, "config": {
        "models": [{"name": "m1", "path": "/models/m1.gguf"}], "engines": [{"name": "llama_cpp", "suite": "x"}],
        "benchmarks": ["throughput"], "devon_managed": True}})
    check(status == 201, f"draft: {status} {draft}")
    before = api("GET", f"/api/v1/campaigns/{draft['id']}")[1]["config"]
    go(f"/campaigns/{draft['id']}")
    driver.find_element(By.LINK_TEXT, "Edit config").click()
    wait.until(lambda d: d.current_url.endswith("/edit"))
    driver.find_element(By.ID, "models").send_keys("\nm2")
    driver.find_element(By.CSS_SELECTOR, "input[name='config.benchmarks'][value='latency']").click()
    wait.until(lambda d: "= 4 runs" in text_of("[data-run-count]"))
    driver.find_element(By.CSS_SELECTOR, "#campaign-form button[type=submit]").click()
    wait.until(lambda d: d.current_url.rstrip("/").endswith(draft["id"]))
    # Compared with what the API stored before the edit (SPEC 7.1 keeps a config as sent).
    config = api("GET", f"/api/v1/campaigns/{draft['id']}")[1]["config"]
    check(config["models"][0] == before["models"][0] and config["models"][1]["name"] == "m2", f"models: {config}")
    check(config["engines"] == before["engines"], f"engines: {config}")
    check(config["benchmarks"] == ["throughput", "latency"], f"benchmarks: {config}")
    for key in before:
        if key not in ("models", "benchmarks"):
            check(config.get(key) == before[key], f"{key} changed: {before} → {config}")
    passed("campaign-edit-draft")

    # 6. Compare the two results: one chart per metric, the best bar marked.
    go("/results")
    boxes = driver.find_elements(By.CSS_SELECTOR, "input[name=ids]")
    check(len(boxes) >= 2, "two results listed")
    boxes[0].click()
    boxes[1].click()
    shoot("results")
    driver.find_element(By.ID, "compare-button").click()
    wait.until(lambda d: "/results/compare" in d.current_url)
    charts = driver.find_elements(By.CSS_SELECTOR, "figure.chart")
    names = sorted(c.get_attribute("data-metric") for c in charts)
    check(names == ["throughput.avg_tps", "throughput.ttft_ms"], f"charts {names}")
    for chart in charts:
        check(len(chart.find_elements(By.CSS_SELECTOR, "svg.wide rect.bar")) == 2, "two bars")
        check(len(chart.find_elements(By.CSS_SELECTOR, "svg.wide rect.bar.best")) == 1, "one best bar")
    shoot("compare")
    passed("compare-charts")

    # At a phone's width: the nav takes two lines (links scroll sideways) and charts switch
    # to their narrow drawing, whose text stays legible.
    set_width(390)
    narrow = driver.MIN_WIDTH if FIREFOX else 390  # headless Firefox's windows are at least 500 px wide
    wait.until(lambda d: d.execute_script("return document.documentElement.clientWidth") <= narrow)
    layout = driver.execute_script("""
        const rect = (el) => el.getBoundingClientRect();
        const links = document.querySelector('.nav-links'), brand = document.querySelector('.brand');
        const lines = new Set([...links.querySelectorAll('a')].map((a) => Math.round(rect(a).top)));
        const narrow = document.querySelector('figure.chart svg.narrow');
        const wide = document.querySelector('figure.chart svg.wide');
        const text = narrow.querySelector('text');
        return {header: rect(document.querySelector('header.top')).height, linkLines: lines.size,
                linksBelowBrand: rect(links).top >= rect(brand).bottom - 1,
                narrowShown: getComputedStyle(narrow).display !== 'none', wideShown: getComputedStyle(wide).display !== 'none',
                textPx: rect(text).height, pageWidth: document.documentElement.scrollWidth};""")
    check(layout["linkLines"] == 1 and layout["linksBelowBrand"], f"nav at {narrow} px: {layout}")
    check(layout["header"] < 110, f"the header is {layout['header']} px tall at {narrow} px")
    check(layout["narrowShown"] and not layout["wideShown"], f"charts at {narrow} px: {layout}")
    check(layout["textPx"] >= 12, f"chart text is {layout['textPx']} px tall at {narrow} px")
    check(layout["pageWidth"] <= narrow, f"the page scrolls sideways at {narrow} px: {layout}")
    # The current page's link is scrolled into the strip, even when it is the last one.
    go("/settings")
    shown = driver.execute_script("""
        const links = document.querySelector('.nav-links').getBoundingClientRect();
        const current = document.querySelector('.nav-links [aria-current=page]').getBoundingClientRect();
        return current.left >= links.left - 1 && current.right <= links.right + 1;""")
    check(shown, "the current page's link is out of sight in the nav strip")
    set_width(None)
    passed("phone-layout")

    # 7. A hostile model name is text, never markup.
    status, created = api("POST", "/api/v1/quicktest", {"agent_id": agent_id, "model_path": HOSTILE,
                                                         "engine_name": "llama_cpp", "force": True})
    check(status == 202, f"hostile quick test: {status} {created}")
    for path in ["/quicktests", "/quicktests/" + created["id"], "/agents/" + agent_id]:
        go(path)
        check(HOSTILE in driver.find_element(By.TAG_NAME, "main").text, f"{path}: name shown as text")
        check(driver.execute_script("return document.scripts.length") == 1, f"{path}: an injected script")
        try:
            driver.switch_to.alert
            raise AssertionError(f"{path}: an alert ran")
        except NoAlertPresentException:
            pass
    passed("hostile-name")

    # An action button: cleanup is queued and the next heartbeat hands it out.
    go("/agents/" + agent_id)
    driver.find_element(By.XPATH, "//button[normalize-space()='Clean up storage']").click()
    wait.until(lambda d: "Cleanup queued for the next heartbeat" in text_of("#maintenance-output"))
    types = []
    for _ in range(5):
        types += [c["type"] for c in api("POST", f"/api/v1/agents/{agent_id}/heartbeat", {"status": "idle"})[1]["commands"]]
    check("cleanup_storage" in types, f"heartbeat commands {types}")
    passed("agent-cleanup")

    # Token rotation (when the API has it): confirmed, then the new token is shown once and works.
    rotate = driver.find_elements(By.XPATH, "//button[normalize-space()='Rotate token']")
    if rotate:
        rotate[0].click()
        wait.until(EC.alert_is_present())
        driver.switch_to.alert.accept()
        wait.until(lambda d: "New token" in text_of("#maintenance-output"))
        token = text_of("#maintenance-output").split(": ", 1)[1].strip()
        status, _ = api("POST", f"/api/v1/agents/{agent_id}/heartbeat", {"status": "idle"}, token=token)
        check(status == 200, f"the rotated token is refused: {status}")
        passed("rotate-token")

    # 8. Writes without (or with a wrong) CSRF token are refused; with it, they work.
    go("/agents/" + agent_id)
    script = """
        const done = arguments[arguments.length - 1];
        const csrf = arguments[0];
        const call = (headers) => fetch('/ui/api/v1/agents/%s', {method: 'PATCH', credentials: 'same-origin',
            headers: Object.assign({'Content-Type': 'application/json'}, headers),
            body: JSON.stringify({notes: 'via fetch'})}).then(r => r.status);
        Promise.all([call({}), call({'X-CSRF-Token': 'forged'}), call({'X-CSRF-Token': csrf})]).then(done);
    """ % agent_id
    csrf = driver.find_element(By.CSS_SELECTOR, "meta[name=csrf-token]").get_attribute("content")
    codes = driver.execute_async_script(script, csrf)
    check(codes == [403, 403, 200], f"CSRF codes {codes}")
    check(api("GET", f"/api/v1/agents/{agent_id}")[1]["notes"] == "via fetch", "the good write landed")
    passed("csrf")

    # A Devon download shows as running while Devon works, live, then as completed.
    if args.devon:
        go("/models?q=tiny")
        wait_live()
        row = "[data-download='org/tiny-gguf']"
        check(not driver.find_elements(By.CSS_SELECTOR, row), "a download listed before one started")
        driver.find_element(By.XPATH, "//button[normalize-space()='Download']").click()
        wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, row) and text_of(row + " .badge") == "running")
        wait.until(lambda d: "running for" in text_of(row))
        shoot("models-downloading")
        urllib.request.urlopen(urllib.request.Request(args.devon + "/release", data=b"{}", method="POST"), timeout=10)
        wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, row) and text_of(row + " .badge") == "completed")
        wait.until(lambda d: "/models/org/tiny-gguf" in text_of("#models-local"))
        check("/models/org/tiny-gguf" in text_of(row), "the path of the finished download")
        passed("model-download")

    # Settings: the server's configuration, and the signed-in browsers; revoking another
    # browser's session stops its writes.
    other = sign_in_elsewhere()
    go("/settings")
    settings = text_of("#server-settings")
    check("Public URL" in settings and "Data directory" in settings and "TLS" in settings, f"configuration: {settings}")
    check(args.token not in driver.page_source, "the admin token is on the settings page")
    rows = driver.find_elements(By.CSS_SELECTOR, "#web-sessions tbody tr")
    check(len(rows) == 2, f"{len(rows)} sessions listed")
    check(ui_write(other) == 200, "the other browser can write before")
    foreign = [r for r in rows if "this browser" not in r.text][0]
    foreign.find_element(By.XPATH, ".//button[normalize-space()='Revoke']").click()
    wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#web-sessions tbody tr")) == 1)
    check("this browser" in text_of("#web-sessions tbody tr"), "our own session stays")
    check(ui_write(other) == 401, "the revoked session still writes")
    shoot("settings")
    passed("settings")

    # Screenshots of the remaining pages, then sign out ends the session.
    if args.screenshots:
        for name, path in [("dashboard", "/"), ("agents", "/agents"), ("agent-detail", "/agents/" + agent_id),
("quicktests", "/quicktests"), ("campaigns", "/campaigns"),
                           ("result-detail", "/results/" + driver.execute_script("return ''") ),
                           ("aggregate", "/results/aggregate?group_by=model&metric=avg_tps"),
                           ("models", "/models"), ("quicktest-new-local", "/quicktests/new")]:
            if name == "result-detail":
                rid = api("GET", "/api/v1/results")[1]["items"][0]["id"]
                path = "/results/" + rid
            go(path)
            shoot(name)
    go("/")
    driver.find_element(By.CSS_SELECTOR, "form[data-api='/ui/signout'] button").click()
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "a[href='/signin']"))
    codes = driver.execute_async_script("""
        const done = arguments[arguments.length - 1];
        fetch('/ui/api/v1/agents/%s', {method: 'PATCH', headers: {'Content-Type': 'application/json',
            'X-CSRF-Token': arguments[0]}, body: '{"notes":"x"}'}).then(r => done(r.status));
    """ % agent_id, csrf)
    check(codes == 401, f"after sign-out: {codes}")
    passed("sign-out")
except Exception as error:
    print("FAIL " + type(error).__name__ + ": " + str(error), flush=True)
    print("AT " + " < ".join(f"line {f.lineno}" for f in reversed(traceback.extract_tb(error.__traceback__))
                             if f.filename == __file__), flush=True)
    try:
        print("URL " + driver.current_url, flush=True)
        print("MAIN " + driver.find_element(By.TAG_NAME, "main").text[:2000], flush=True)
    except Exception:
        pass
    driver.quit()
    sys.exit(1)
driver.quit()
