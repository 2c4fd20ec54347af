"""Selenium's WebDriver API on headless Firefox, without geckodriver (Debian has none).

Firefox speaks Marionette itself (`--marionette`): length-prefixed JSON over a local TCP
socket, whose commands are the WebDriver commands. `MarionetteConnection` stands in for
Selenium's HTTP `RemoteConnection` and sends each Selenium command to Firefox as its
Marionette twin, so `firefox()` returns an ordinary `selenium.webdriver.Remote` and the
scenarios in webui.py run unchanged. Python 3 stdlib plus python3-selenium only.
"""
import atexit
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time

from selenium import webdriver
from selenium.webdriver.remote.command import Command
from selenium.webdriver.remote.remote_connection import RemoteConnection

# Selenium command → Marionette command. Parameters pass through under the same names
# (Marionette takes WebDriver's), with the element id as "id".
COMMANDS = {
    Command.NEW_SESSION: "WebDriver:NewSession",
    Command.QUIT: "Marionette:Quit",
    Command.GET: "WebDriver:Navigate",
    Command.GET_CURRENT_URL: "WebDriver:GetCurrentURL",
    Command.GET_TITLE: "WebDriver:GetTitle",
    Command.GET_PAGE_SOURCE: "WebDriver:GetPageSource",
    Command.REFRESH: "WebDriver:Refresh",
    Command.FIND_ELEMENT: "WebDriver:FindElement",
    Command.FIND_ELEMENTS: "WebDriver:FindElements",
    Command.FIND_CHILD_ELEMENT: "WebDriver:FindElement",  # with "element": the scope
    Command.FIND_CHILD_ELEMENTS: "WebDriver:FindElements",
    Command.W3C_GET_ACTIVE_ELEMENT: "WebDriver:GetActiveElement",
    Command.CLICK_ELEMENT: "WebDriver:ElementClick",
    Command.SEND_KEYS_TO_ELEMENT: "WebDriver:ElementSendKeys",
    Command.CLEAR_ELEMENT: "WebDriver:ElementClear",
    Command.GET_ELEMENT_TEXT: "WebDriver:GetElementText",
    Command.GET_ELEMENT_TAG_NAME: "WebDriver:GetElementTagName",
    Command.GET_ELEMENT_ATTRIBUTE: "WebDriver:GetElementAttribute",
    Command.GET_ELEMENT_PROPERTY: "WebDriver:GetElementProperty",
    Command.GET_ELEMENT_VALUE_OF_CSS_PROPERTY: "WebDriver:GetElementCSSValue",
    Command.GET_ELEMENT_RECT: "WebDriver:GetElementRect",
    Command.IS_ELEMENT_SELECTED: "WebDriver:IsElementSelected",
    Command.IS_ELEMENT_ENABLED: "WebDriver:IsElementEnabled",
    Command.W3C_EXECUTE_SCRIPT: "WebDriver:ExecuteScript",
    Command.W3C_EXECUTE_SCRIPT_ASYNC: "WebDriver:ExecuteAsyncScript",
    Command.GET_ALL_COOKIES: "WebDriver:GetCookies",
    Command.SCREENSHOT: "WebDriver:TakeScreenshot",
    Command.W3C_ACTIONS: "WebDriver:PerformActions",
    Command.W3C_CLEAR_ACTIONS: "WebDriver:ReleaseActions",
    Command.W3C_GET_ALERT_TEXT: "WebDriver:GetAlertText",
    Command.W3C_ACCEPT_ALERT: "WebDriver:AcceptAlert",
    Command.W3C_DISMISS_ALERT: "WebDriver:DismissAlert",
    Command.SET_WINDOW_RECT: "WebDriver:SetWindowRect",
    Command.GET_WINDOW_RECT: "WebDriver:GetWindowRect",
    Command.SET_TIMEOUTS: "WebDriver:SetTimeouts",
    Command.W3C_GET_CURRENT_WINDOW_HANDLE: "WebDriver:GetWindowHandle",
}


class MarionetteConnection(RemoteConnection):
    def __init__(self, port):
        self._sock = socket.create_connection(("127.0.0.1", port), timeout=60)
        self._buffer = b""
        self._next = 1
        self._receive()  # Firefox's greeting: {"applicationType": "gecko", "marionetteProtocol": 3}

    def _receive(self):
        while b":" not in self._buffer:
            self._buffer += self._read()
        length, rest = self._buffer.split(b":", 1)
        length = int(length)
        while len(rest) < length:
            rest += self._read()
        self._buffer = rest[length:]
        return json.loads(rest[:length])

    def _read(self):
        chunk = self._sock.recv(65536)
        if not chunk:
            raise ConnectionError("Firefox closed the Marionette connection")
        return chunk

    def send(self, name, params):
        """One Marionette command; returns (error, result)."""
        message_id = self._next
        self._next += 1
        data = json.dumps([0, message_id, name, params]).encode()
        self._sock.sendall(str(len(data)).encode() + b":" + data)
        while True:
            _, got_id, error, result = self._receive()
            if got_id == message_id:
                return error, result

    def execute(self, command, params):
        name = COMMANDS.get(command)
        if name is None:
            raise NotImplementedError(f"marionette.py: no Marionette command for Selenium's {command!r}")
        params = dict(params or {})
        params.pop("sessionId", None)
        if command in (Command.FIND_CHILD_ELEMENT, Command.FIND_CHILD_ELEMENTS):
            params["element"] = params.pop("id")
        if command == Command.NEW_SESSION:
            params = params.get("capabilities", {}).get("alwaysMatch", {})
        if command == Command.QUIT:
            params = {"flags": ["eForceQuit"]}
        error, result = self.send(name, params)
        if error:
            return {"status": error.get("error", "unknown error"), "value": error}
        if command == Command.NEW_SESSION:
            return {"value": {"sessionId": result.get("sessionId"), "capabilities": result.get("capabilities", {})}}
        if isinstance(result, dict) and set(result) == {"value"}:
            return result
        return {"value": result}

    def close(self):
        self._sock.close()


class Firefox(webdriver.Remote):
    """webdriver.Remote on a Firefox it started; quit() also stops Firefox and removes its profile."""

    def __init__(self, binary, width=1280, height=900):
        self._profile = tempfile.mkdtemp(prefix="kitt-firefox-")
        with open(os.path.join(self._profile, "user.js"), "w") as prefs:
            prefs.write('user_pref("marionette.port", 0);\n')  # any free port, written to MarionetteActivePort
            prefs.write('user_pref("browser.shell.checkDefaultBrowser", false);\n')
            prefs.write('user_pref("datareporting.policy.dataSubmissionEnabled", false);\n')
            prefs.write('user_pref("toolkit.telemetry.reportingpolicy.firstRun", false);\n')
            prefs.write('user_pref("app.update.disabledForTesting", true);\n')
            prefs.write('user_pref("network.captive-portal-service.enabled", false);\n')
            prefs.write('user_pref("browser.safebrowsing.update.enabled", false);\n')
        self._process = subprocess.Popen(
            [binary, "--marionette", "--headless", "--no-remote", "--profile", self._profile,
             f"--width={width}", f"--height={height}", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=dict(os.environ, MOZ_HEADLESS="1"))
        atexit.register(self._cleanup)  # a script that dies without quit() leaves no Firefox behind
        port_file = os.path.join(self._profile, "MarionetteActivePort")
        deadline = time.monotonic() + 60
        connection = None
        while connection is None:
            if self._process.poll() is not None or time.monotonic() > deadline:
                self._cleanup()
                raise RuntimeError("Firefox did not start Marionette")
            try:
                with open(port_file) as f:
                    connection = MarionetteConnection(int(f.read().strip()))
            except (OSError, ValueError):
                time.sleep(0.1)
        options = webdriver.FirefoxOptions()
        options.accept_insecure_certs = True
        try:
            super().__init__(command_executor=connection, options=options)
        except Exception:
            self._cleanup()
            raise

    # Firefox keeps a headless window at least 500 px wide (still a phone layout: ≤ 600 px).
    MIN_WIDTH = 500

    def set_viewport(self, width, height):
        self.set_window_size(max(width, self.MIN_WIDTH), height)

    def quit(self):
        try:
            super().quit()
        except Exception:
            pass
        self._cleanup()

    def _cleanup(self):
        if self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        shutil.rmtree(self._profile, ignore_errors=True)
