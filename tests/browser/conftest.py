"""Fixtures for the browser tests: one real hub per module, a real Chromium per test, a screenshot and the page source
of every failure in var/browser-failures/, and the docs' screenshots when SIMPUL_SCREENSHOTS names a folder."""

from __future__ import annotations

import os
import re
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.chrome.webdriver import WebDriver

from tests.browser.chrome import PHONE, BrowserSpec, full_page_png, open_chrome, save_small_png
from tests.e2e.hub import Api, Hub, running_hub

ROOT = Path(__file__).resolve().parents[2]
FAILURES = ROOT / "var" / "browser-failures"
REPORTS = pytest.StashKey[dict[str, pytest.TestReport]]()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    item.stash.setdefault(REPORTS, {})[report.when] = report
    return report


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hub]:
    with running_hub(tmp_path_factory.mktemp("hub")) as h:
        yield h


@pytest.fixture(scope="module")
def portal_url(hub: Hub) -> str:
    """The portal: the pages at `/` of the hub's one base URL."""
    start = httpx.get(f"{hub.base_url}/", timeout=30)
    assert start.status_code == 200 and start.headers["content-type"].startswith("text/html"), start.text[:200]
    return hub.base_url


@pytest.fixture(scope="module")
def api(hub: Hub) -> Iterator[Api]:
    a = Api(hub)
    yield a
    a.client.close()


@dataclass(frozen=True)
class Agency:
    """An agency node whose inbox a report naming `keyword` reaches, by a routing rule (whether or not the form
    offers categories and regions, which come from the reference lists)."""

    code: str
    key: dict[str, str]
    keyword: str


@pytest.fixture(scope="module")
def agency(api: Api) -> Agency:
    api.node("KEMEN-WEB", "instansi")
    api.node("UPT-WEB", "upt", "KEMEN-WEB", region_codes=["3578"])
    key = api.key("UPT-WEB")
    rule = {"agency_code": "UPT-WEB", "keywords": ["loket kunjungan"], "priority": 10}
    api.ok(api.client.post("/api/v1/hub/routing-rules", json=rule, headers=api.admin), 201)
    return Agency("UPT-WEB", key, keyword="loket kunjungan")


@pytest.fixture
def browser(request: pytest.FixtureRequest) -> Iterator[WebDriver]:
    """Chromium, headless; JavaScript on at a phone's width unless the test passes a BrowserSpec (indirect)."""
    spec: BrowserSpec = getattr(request, "param", BrowserSpec(javascript=True, window=PHONE))
    driver = open_chrome(spec)
    try:
        yield driver
        reports = request.node.stash.get(REPORTS, {})
        if any(r.failed for r in reports.values()):
            keep_failure(driver, request.node.name)
    finally:
        driver.quit()


def keep_failure(driver: WebDriver, test_name: str) -> None:
    """What the browser showed when the test failed: a full-page PNG and the HTML, named after the test."""
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", test_name).strip("_")
    FAILURES.mkdir(parents=True, exist_ok=True)
    try:
        (FAILURES / f"{stem}.png").write_bytes(full_page_png(driver))
        (FAILURES / f"{stem}.html").write_text(f"<!-- {driver.current_url} -->\n{driver.page_source}")
    except WebDriverException as exc:
        (FAILURES / f"{stem}.txt").write_text(f"no screenshot: {exc.msg}\n")


@dataclass
class Screenshots:
    """Full-page PNGs for the docs, in `folder` (from SIMPUL_SCREENSHOTS); nothing when it is not set."""

    folder: Path | None

    def take(self, driver: WebDriver, name: str) -> None:
        if self.folder is None:
            return
        size = save_small_png(full_page_png(driver), self.folder / f"{name}.png")
        assert size < 150_000, f"{name}.png is {size} bytes; the docs' screenshots stay under 150 KB"


@pytest.fixture
def screenshots() -> Screenshots:
    folder = os.environ.get("SIMPUL_SCREENSHOTS")
    return Screenshots((ROOT / folder) if folder else None)
