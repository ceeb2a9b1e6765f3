"""The browser the portal's tests drive: JavaScript really on or off, at the width asked for."""

from __future__ import annotations

import pytest
from selenium.webdriver.chrome.webdriver import WebDriver
from selenium.webdriver.common.by import By

from tests.browser.chrome import DESKTOP, BrowserSpec, missing_chrome

pytestmark = pytest.mark.skipif(missing_chrome() is not None, reason=str(missing_chrome()))

SCRIPTED = (
    "data:text/html,<meta name=viewport content='width=device-width'>"
    "<p id=said>tanpa skrip</p><script>document.getElementById('said').textContent='skrip'</script>"
)

SPECS = [BrowserSpec(javascript=True), BrowserSpec(javascript=False), BrowserSpec(javascript=True, window=DESKTOP)]


@pytest.mark.parametrize("browser", SPECS, indirect=True, ids=[s.id for s in SPECS])
def test_scripts_run_only_when_asked_at_the_width_asked(browser: WebDriver, request: pytest.FixtureRequest) -> None:
    spec: BrowserSpec = request.node.callspec.params["browser"]
    browser.get(SCRIPTED)
    assert browser.find_element(By.ID, "said").text == ("skrip" if spec.javascript else "tanpa skrip")
    # WebDriver's own scripts run either way (they measure; the page's are what the setting turns off).
    assert browser.execute_script("return window.innerWidth") == spec.window[0]
