"""A real Chromium for the browser tests: Debian's `chromium` driven through Debian's `chromedriver`, headless, with
JavaScript on or off, at a phone's width or a desktop's; and full-page PNGs small enough for the docs."""

from __future__ import annotations

import base64
import io
import os
from dataclasses import dataclass
from pathlib import Path

from PIL import Image
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.chrome.webdriver import WebDriver

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
"""Debian's paths, named outright: Selenium Manager must never go looking for (or download) a driver."""

PHONE = (390, 844)
DESKTOP = (1280, 900)


@dataclass(frozen=True)
class BrowserSpec:
    javascript: bool
    window: tuple[int, int] = PHONE

    @property
    def id(self) -> str:
        width = "phone" if self.window == PHONE else "desktop"
        return f"js-{'on' if self.javascript else 'off'}-{width}"


def missing_chrome() -> str | None:
    """Why no browser test can run here, or None when Chromium and its driver are installed."""
    absent = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not os.access(p, os.X_OK)]
    if absent:
        return f"no Chromium here ({', '.join(absent)} missing): apt-get install chromium chromium-driver"
    return None


def open_chrome(spec: BrowserSpec) -> WebDriver:
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in (
        "--headless=new",
        "--no-sandbox",  # the tests run as root, where Chromium's sandbox cannot start
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--no-first-run",
        "--disable-extensions",
        "--lang=id-ID",
        "--force-device-scale-factor=1",
        "--hide-scrollbars",
    ):
        options.add_argument(argument)
    prefs: dict[str, object] = {"intl.accept_languages": "id-ID,id"}
    if not spec.javascript:
        prefs["profile.managed_default_content_settings.javascript"] = 2
    options.add_experimental_option("prefs", prefs)
    driver = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
    try:
        set_viewport(driver, spec.window)
        driver.set_page_load_timeout(30)
    except Exception:
        driver.quit()
        raise
    return driver


def set_viewport(driver: WebDriver, window: tuple[int, int]) -> None:
    """The page's viewport exactly (a headless window keeps a minimum width a phone is below)."""
    width, height = window
    metrics = {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": window == PHONE}
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)


def full_page_png(driver: WebDriver) -> bytes:
    """The whole page, below the fold too, at the viewport's width."""
    layout = driver.execute_cdp_cmd("Page.getLayoutMetrics", {})
    width = layout["cssLayoutViewport"]["clientWidth"]
    height = layout["cssContentSize"]["height"]
    clip = {"x": 0, "y": 0, "width": width, "height": height, "scale": 1}
    shot = driver.execute_cdp_cmd(
        "Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True, "clip": clip}
    )
    return base64.b64decode(shot["data"])


def save_small_png(png: bytes, path: Path, colours: int = 64) -> int:
    """Save a screenshot quantised to a palette (pages are flat colours and text); returns the size in bytes."""
    with Image.open(io.BytesIO(png)) as image:
        small = image.convert("RGB").quantize(colors=colours, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    path.parent.mkdir(parents=True, exist_ok=True)
    small.save(path, "PNG", optimize=True)
    return path.stat().st_size
