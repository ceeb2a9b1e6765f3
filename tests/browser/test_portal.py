"""The citizens' portal in a real Chromium, against a real hub (`simpul up`), with JavaScript on and off: a citizen
reports with a photo, tracks the case, reads the agency's answer and opens its letter, replies and rates; a form with
missing fields comes back as it was filled, with the error beside each field; a wrong receipt opens nothing.

With SIMPUL_SCREENSHOTS set (make screenshots), the JavaScript-on runs save the pages they pass for the docs."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path

import httpx
import pytest
from PIL import Image
from selenium.webdriver.chrome.webdriver import WebDriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from services.web.i18n import load_catalogs
from services.web.words import CASE_NOT_FOUND
from tests.browser.chrome import DESKTOP, PHONE, BrowserSpec, missing_chrome, set_viewport
from tests.browser.conftest import Agency, Screenshots
from tests.browser.portal import Portal
from tests.e2e.hub import Api, wait_for
from tests.support.files import pdf

pytestmark = [pytest.mark.e2e, pytest.mark.skipif(missing_chrome() is not None, reason=str(missing_chrome()))]

BOTH = [BrowserSpec(javascript=True), BrowserSpec(javascript=False)]
JS_ON_AND_OFF = pytest.mark.parametrize("browser", BOTH, indirect=True, ids=[s.id for s in BOTH])

PHOTO = "foto-loket.jpg"
LETTER = "surat-jawaban.pdf"
ANSWER = "Pungutan dihentikan; petugas yang meminta uang sudah diperiksa."
REGION = "3578"
"""Kota Surabaya, chosen when the form offers regions (the reference lists)."""
CATEGORY = "pemasyarakatan"


def spec_of(request: pytest.FixtureRequest) -> BrowserSpec:
    spec = request.node.callspec.params["browser"]
    assert isinstance(spec, BrowserSpec)
    return spec


def shots_for(spec: BrowserSpec, screenshots: Screenshots) -> Screenshots:
    """The docs' screenshots come from the JavaScript-on run only (both runs show the same pages)."""
    return screenshots if spec.javascript else Screenshots(None)


def small_jpeg(folder: Path) -> Path:
    """A photo as a citizen attaches one: a small JPEG, made here."""
    image = Image.new("RGB", (96, 64), (30, 120, 200))
    image.paste((220, 180, 40), (0, 0, 48, 64))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=80)
    path = folder / PHOTO
    path.write_bytes(out.getvalue())
    return path


def choose_place_and_topic(portal: Portal) -> None:
    """Category and region, where the form offers them; with JavaScript the region list is two linked lists."""
    if portal.driver.find_elements(By.CSS_SELECTOR, f'select#category option[value="{CATEGORY}"]'):
        portal.fill({"category": CATEGORY})
    regions = portal.driver.find_elements(By.CSS_SELECTOR, f'select#region_code option[value="{REGION}"]')
    if not regions:
        return
    if portal.driver.find_elements(By.ID, "region-province"):
        province = regions[0].find_element(By.XPATH, "..").get_attribute("label")
        Select(portal.find("#region-province")).select_by_visible_text(str(province))
        Select(portal.find("#region-local")).select_by_value(REGION)
    else:
        portal.fill({"region_code": REGION})


def download(driver: WebDriver, href: str) -> httpx.Response:
    """A link fetched with the browser's cookies, as a click would (headless Chromium saves downloads out of reach)."""
    cookies = {c["name"]: c["value"] for c in driver.get_cookies()}
    return httpx.get(href, cookies=cookies, timeout=30)


def agency_answers(api: Api, agency: Agency, tracking_id: str) -> None:
    """What the agency's own system does through the API: acknowledge, then answer finally, with a letter."""
    wait_for(lambda: tracking_id in api.inbox(agency.key), timeout=30)
    case = f"/api/v1/agency/complaints/{tracking_id}"
    api.ok(api.client.post(f"{case}/acknowledge", headers=agency.key), 200)
    letter = api.ok(
        api.client.post(f"{case}/attachments", files={"file": (LETTER, pdf("Surat jawaban"))}, headers=agency.key),
        201,
    )
    final = {"content": ANSWER, "is_final": True, "attachment_ids": [letter["id"]]}
    api.ok(api.client.post(f"{case}/follow-ups", json=final, headers=agency.key), 201)


def fits_the_screen(portal: Portal) -> None:
    """Nothing wider than the window: a phone never scrolls sideways."""
    width, wide = portal.driver.execute_script("return [window.innerWidth, document.documentElement.scrollWidth]")
    assert wide <= width, f"{portal.driver.current_url} is {wide}px wide in a {width}px window"


def statuses_shown(portal: Portal) -> list[str]:
    return [str(li.get_attribute("data-status")) for li in portal.driver.find_elements(By.CSS_SELECTOR, "#timeline li")]


@JS_ON_AND_OFF
def test_a_citizen_reports_tracks_reads_the_answer_replies_and_rates(
    browser: WebDriver,
    portal_url: str,
    api: Api,
    agency: Agency,
    tmp_path: Path,
    screenshots: Screenshots,
    request: pytest.FixtureRequest,
) -> None:
    spec = spec_of(request)
    shots = shots_for(spec, screenshots)
    portal = Portal(browser, portal_url)
    title = f"Pungutan liar di {agency.keyword}"

    portal.open("/")
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "id", "Indonesian by default"
    fits_the_screen(portal)
    shots.take(browser, "start")
    portal.find("#start-report").click()
    portal.fill(
        {
            "classification": "pengaduan",
            "title": title,
            "content": f"Petugas di {agency.keyword} meminta uang untuk jadwal kunjungan keluarga.",
            "incident_date": date(date.today().year - 1, 3, 3),
            "reporter.name": "Siti Aminah",
            "reporter.email": "siti@example.test",
            "reporter.phone": "+62 812 0000 1111",
            "attachments": small_jpeg(tmp_path),
        }
    )
    choose_place_and_topic(portal)
    fits_the_screen(portal)
    shots.take(browser, "report-phone")
    if shots.folder:
        set_viewport(browser, DESKTOP)
        shots.take(browser, "report-desktop")
        set_viewport(browser, PHONE)
    portal.press("#send-report")

    tracking_id = portal.find("#tracking-id").text.strip()
    receipt = portal.find("#receipt").text.strip()
    assert tracking_id.startswith("SPL-") and len(receipt) >= 16
    assert PHOTO in portal.find("#files li.file-added").text
    fits_the_screen(portal)
    printable = browser.find_element(By.ID, "print").is_displayed()
    assert printable == spec.javascript, "the print button is the script's; without it the page says how to print"
    assert browser.find_element(By.ID, "copy-receipt").is_displayed() == spec.javascript, "copying is the script's"
    shots.take(browser, "confirmation")

    portal.open("/")
    portal.find("#start-track").click()
    portal.fill({"tracking_id": tracking_id, "receipt": receipt})
    shots.take(browser, "track")
    portal.press("#open-case")
    assert portal.find("#case-tracking-id").text == tracking_id
    assert portal.find("#case-title").text == title
    assert statuses_shown(portal)[0] == "submitted"
    assert PHOTO in portal.find("#own-files").text
    assert receipt not in browser.page_source, "the receipt is shown once, on the confirmation, and never again"

    agency_answers(api, agency, tracking_id)
    portal.reload_until(ANSWER, LETTER, status="answered")
    assert {"submitted", "in_progress", "answered"} <= set(statuses_shown(portal))
    link = portal.find("#answers a.download")
    assert link.text == LETTER
    letter = download(browser, str(link.get_attribute("href")))
    assert letter.status_code == 200 and letter.content == pdf("Surat jawaban")
    fits_the_screen(portal)
    shots.take(browser, "case")

    reply = "Terima kasih, uang saya sudah dikembalikan."
    portal.fill({"content": reply}, scope="#reply-form")
    portal.press("#send-message")
    portal.find("#sent")
    assert reply in portal.find("#messages").text

    portal.fill({"score": "4", "comment": "Cepat ditangani"}, scope="#rating-form")
    portal.press("#send-rating")
    portal.find("#sent")
    rating = portal.find("#rating").text
    assert "4" in rating and "Cepat ditangani" in rating
    assert not browser.find_elements(By.ID, "rating-form"), "a case is rated once"


@JS_ON_AND_OFF
def test_a_form_with_missing_fields_comes_back_filled_in_with_the_errors_beside_them(
    browser: WebDriver, portal_url: str, screenshots: Screenshots, request: pytest.FixtureRequest
) -> None:
    portal = Portal(browser, portal_url)
    portal.open("/report")
    portal.fill({"title": "Jalan berlubang di depan pasar", "reporter.name": "Budi", "reporter.email": "budi@x.test"})
    portal.press("#send-report")

    assert portal.find("#error-summary").is_displayed()
    for field in ("classification", "content"):
        assert portal.find(f"#{field}-error").text, f"no error beside {field}"
    assert portal.find("#content").get_attribute("aria-invalid") == "true"
    assert portal.find("#title").get_attribute("value") == "Jalan berlubang di depan pasar"
    assert portal.find("#reporter-name").get_attribute("value") == "Budi"
    assert portal.find("#reporter-email").get_attribute("value") == "budi@x.test"
    assert not browser.find_elements(By.CSS_SELECTOR, "#title-error"), "a field filled in is not in error"
    portal.find('#error-summary a[href="#content"]').click()
    shots_for(spec_of(request), screenshots).take(browser, "report-errors")


@JS_ON_AND_OFF
def test_a_file_too_large_is_refused_in_plain_words(
    browser: WebDriver, portal_url: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    too_large = tmp_path / "video.jpg"
    too_large.write_bytes(b"\xff\xd8\xff" + bytes(10 * 1024 * 1024))
    portal = Portal(browser, portal_url)
    portal.open("/report")
    fields = {"classification": "aspirasi", "title": "Taman kota", "content": "Tambahkan bangku di taman kota."}
    portal.fill({**fields, "attachments": too_large})
    if spec_of(request).javascript:
        assert "video.jpg: Berkas terlalu besar" in portal.find("#attachments-too-large").text
        sent = browser.execute_script(
            "return document.getElementById('report-form').dispatchEvent(new Event('submit', {cancelable: true}));"
        )
        assert sent is False, "the form is not sent with a file the API would refuse"
    else:
        portal.press("#send-report")
        refused = portal.find("#files li.file-refused").text
        assert "video.jpg" in refused and "Berkas terlalu besar: setiap berkas paling besar 10 MB." in refused


@JS_ON_AND_OFF
def test_a_wrong_receipt_opens_nothing(browser: WebDriver, portal_url: str, api: Api) -> None:
    issued = api.submit(title="Antrean KTP terlalu lama")
    wrong = "X" * len(issued["receipt"])
    portal = Portal(browser, portal_url)
    portal.open("/track")
    portal.fill({"tracking_id": issued["tracking_id"], "receipt": wrong})
    portal.press("#open-case")

    expected = load_catalogs()["id"].gettext(CASE_NOT_FOUND)
    assert portal.find("#error-summary-message").text == expected
    assert portal.find("#tracking_id").get_attribute("value") == issued["tracking_id"]
    assert not browser.find_elements(By.ID, "case-title")
    assert "Antrean KTP" not in portal.text()


def test_english_on_request_and_remembered(browser: WebDriver, portal_url: str) -> None:
    portal = Portal(browser, portal_url)
    portal.open("/?lang=en")
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "en"
    assert portal.find("#lang-switch").get_attribute("lang") == "id", "the switch offers Indonesian back"
    portal.find("#start-report").click()
    portal.find("#report-form")
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "en"
    assert portal.find("#send-report").text == "Send report"
