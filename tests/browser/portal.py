"""The citizens' portal as a citizen uses it: open a page, fill a form by its fields' names, press its button, read
what the page says. Every wait is for a condition the page shows, never for a time."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from pathlib import Path
from typing import TypeVar

from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.chrome.webdriver import WebDriver
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import Select, WebDriverWait

T = TypeVar("T")

PAGE_TIMEOUT = 20.0
ANSWER_TIMEOUT = 45.0
"""How long an answer posted through the API may take to reach the page (events travel between services)."""


class Portal:
    def __init__(self, driver: WebDriver, base_url: str):
        self.driver = driver
        self.base_url = base_url

    def open(self, path: str) -> None:
        self.driver.get(self.base_url + path)

    def until(self, condition: Callable[[WebDriver], T], timeout: float = PAGE_TIMEOUT, message: str = "") -> T:
        return WebDriverWait(self.driver, timeout, poll_frequency=0.1).until(condition, message)

    def find(self, css: str) -> WebElement:
        found = self.until(ec.visibility_of_element_located((By.CSS_SELECTOR, css)), message=f"no visible {css}")
        assert isinstance(found, WebElement)
        return found

    def field(self, name: str, scope: str = "") -> WebElement:
        return self.find(f'{scope} [name="{name}"]'.strip())

    def text(self) -> str:
        return str(self.driver.find_element(By.TAG_NAME, "body").text)

    def shows(self, *texts: str, timeout: float = PAGE_TIMEOUT) -> None:
        """Wait until the page shows every text (as a reader sees it: CSS-hidden text does not count)."""
        self.until(lambda _: all(t in self.text() for t in texts), timeout, f"the page never showed {texts}")

    def fill(self, values: Mapping[str, str | bool | date | Path], scope: str = "") -> None:
        """Fill fields by name as a person would: type text, choose an option, tick a box, pick a file."""
        for name, value in values.items():
            element = self.field(name, scope)
            kind = (element.get_attribute("type") or "").lower()
            if element.tag_name == "select":
                Select(element).select_by_value(str(value))
            elif kind in ("checkbox", "radio") and isinstance(value, bool):
                if element.is_selected() != value:
                    element.click()
            elif kind == "radio":
                self.find(f'{scope} [name="{name}"][value="{value}"]'.strip()).click()
            elif kind == "file":
                element.send_keys(str(value))
            elif kind == "date" and isinstance(value, date):
                type_date(element, value)
            else:
                element.clear()
                element.send_keys(str(value))

    def press(self, button_css: str) -> None:
        """Press a button that submits its form, and wait until the next page has replaced this one."""
        page = self.driver.find_element(By.TAG_NAME, "html")
        self.find(button_css).click()
        self.until(ec.staleness_of(page), message=f"{button_css} did not lead to another page")
        self.until(lambda d: d.execute_script("return document.readyState") == "complete")

    def reload_until(self, *texts: str, status: str | None = None, timeout: float = ANSWER_TIMEOUT) -> None:
        """Reload, as a citizen checking again would, until the page shows every text (and the case `status`)."""

        def reloaded_and_shown(driver: WebDriver) -> bool:
            driver.refresh()
            try:
                shown = driver.find_elements(By.CSS_SELECTOR, f'#status[data-status="{status}"]') if status else True
                return bool(shown) and all(t in self.text() for t in texts)
            except StaleElementReferenceException:
                return False

        WebDriverWait(self.driver, timeout, poll_frequency=0.5).until(
            reloaded_and_shown, f"never showed {texts} with status {status}"
        )


def type_date(element: WebElement, day: date) -> None:
    """Type a date into a date field the way the browser's locale orders it; a day equal to its month and a year
    last (dd/mm/yyyy or mm/dd/yyyy alike) is what the tests use, so only assert that it took."""
    assert day.day == day.month, "type_date types dates whose day equals their month"
    element.send_keys(f"{day:%d%m%Y}")
    assert element.get_attribute("value") == day.isoformat(), f"the date field took {element.get_attribute('value')}"
