"""The citizens' portal in a whole hub: `simpul up` as processes, a person's browser played by httpx."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest

from tests.e2e.hub import Api, Hub, running_hub, wait_for
from tests.web.browser import PNG, Browser, Page

pytestmark = pytest.mark.e2e

RECEIPT_TRIES = 3
"""Failed receipt checks a client may make here before intake locks it out (10 by default)."""

REPORT = {
    "classification": "pengaduan",
    "title": "Pungutan liar di loket KTP",
    "content": "Petugas meminta uang Rp50.000 untuk mempercepat KTP.",
    "incident_date": "2026-03-27",
    "reporter.name": "Siti Aminah",
    "reporter.email": "siti@example.test",
}


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hub]:
    env = {"SIMPUL_INTAKE_RECEIPT_FAILURES_PER_CLIENT": str(RECEIPT_TRIES)}
    with running_hub(tmp_path_factory.mktemp("portal"), env=env) as h:
        yield h


@pytest.fixture(scope="module")
def api(hub: Hub) -> Iterator[Api]:
    a = Api(hub)
    yield a
    a.client.close()


@pytest.fixture
def browser(hub: Hub) -> Iterator[Browser]:
    b = Browser(hub.base_url)
    yield b
    b.close()


def send_report(browser: Browser, **fields: str) -> Page:
    form = browser.get("/report")
    assert form.status == 200
    return browser.submit(form, "report-form", {**REPORT, **fields})


def test_the_base_url_shows_the_portal_and_keeps_the_api_and_docs(browser: Browser, hub: Hub) -> None:
    start = browser.get("/")
    assert start.status == 200 and start.one("html")["lang"] == "id"
    assert start.one("a#start-report")["href"] == "/report" and start.one("a#start-track")["href"] == "/track"
    assert start.text("h1") == "Laporkan masalah layanan publik"
    for header, value in {
        "x-frame-options": "DENY",
        "referrer-policy": "no-referrer",
        "x-content-type-options": "nosniff",
    }.items():
        assert start.response.headers[header] == value
    assert "script-src 'self'" in start.response.headers["content-security-policy"]
    assert browser.client.get("/static/portal.css").status_code == 200
    # The API's own paths stay the API's: an unknown one keeps its JSON 404; the docs and health stay the gateway's.
    unknown = browser.client.get("/api/v1/nothing-here")
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "not_found"
    assert browser.client.get("/docs").status_code == 200
    assert httpx.get(f"{hub.base_url}/readyz").json()["checks"]["web"] == "ok"
    missing = browser.get("/no-such-page")
    assert missing.status == 404 and missing.has("#error-message")


def test_the_language_is_chosen_remembered_and_negotiated(hub: Hub) -> None:
    browser = Browser(hub.base_url)
    try:
        english = browser.get("/?lang=en")
        assert english.one("html")["lang"] == "en" and english.text("h1") == "Report a problem with a public service"
        assert english.one("a#lang-switch")["href"] == "/?lang=id"
        assert browser.get("/report").one("html")["lang"] == "en", "the choice is remembered in a cookie"
        assert browser.get("/report?lang=id").text("h1") == "Laporkan masalah"
    finally:
        browser.close()
    asked = Browser(hub.base_url, headers={"Accept-Language": "en-GB,en;q=0.9,id;q=0.5"})
    try:
        assert asked.get("/track").one("html")["lang"] == "en"
    finally:
        asked.close()


def test_a_missing_or_wrong_field_keeps_the_input_and_shows_the_error_beside_it(browser: Browser) -> None:
    page = send_report(browser, title="")
    assert page.status == 422
    assert page.text("#title-error").endswith("Tulis judul singkat laporan Anda, paling banyak 200 karakter")
    assert page.one("#error-summary a[href='#title']")
    assert page.one("textarea#content").get_text() == REPORT["content"]
    assert page.one("input#classification")["value"] == "pengaduan" and page.one("input#classification").has_attr(
        "checked"
    )
    assert page.one("input#title")["aria-invalid"] == "true"
    # A field the API refuses (the portal leaves addresses to it) comes back beside its input too.
    page = browser.submit(browser.get("/report"), "report-form", {**REPORT, "reporter.email": "not an address"})
    assert page.status == 422
    assert page.has("#reporter-email-error") and page.one("#error-summary a[href='#reporter-email']")
    assert page.one("input#reporter-email")["value"] == "not an address"
    assert page.one("input#reporter-name")["value"] == REPORT["reporter.name"]


def test_a_report_shows_its_receipt_once_and_its_files_verdicts(browser: Browser, api: Api) -> None:
    form = browser.get("/report")
    too_large = b"\xff\xd8\xff" + bytes(10 * 1024 * 1024)
    files = [("jalan.png", PNG), ("program.bin", bytes(range(256)) * 4), ("besar.jpg", too_large)]
    page = browser.submit(form, "report-form", REPORT, files)
    assert page.status == 200, page.response.text[:2000]
    assert page.response.headers["cache-control"] == "no-store"
    tracking_id, receipt = page.text("#tracking-id"), page.one("#receipt").get_text()
    assert tracking_id.startswith("SPL-") and len(receipt) > 30
    assert page.has("#receipt-warning") and page.has("button#print[hidden]") and page.has("button#copy-receipt[hidden]")
    assert [g.get_text() for g in page.soup.select("#receipt .receipt-group")] == receipt.split("-")
    assert page.text("#print-hint") == "Cetak atau simpan sebagai PDF dari menu peramban."
    assert page.text("#track-address").endswith("/track") and "2026" in page.text("#sent-at")
    assert page.one("a#case-link")["href"] == f"/track/{tracking_id}"
    added, refused = page.soup.select("#files li.file-added"), page.soup.select("#files li.file-refused")
    assert [li.select(".filename")[0].get_text() for li in added] == ["jalan.png"]
    assert [li.select(".filename")[0].get_text() for li in refused] == ["program.bin", "besar.jpg"]
    assert "Jenis berkas ini tidak diterima" in refused[0].get_text()
    assert "Berkas terlalu besar: setiap berkas paling besar 10 MB." in refused[1].get_text()
    view = api.reporter_view({"tracking_id": tracking_id, "receipt": receipt})
    assert view["title"] == REPORT["title"] and [a["filename"] for a in view["attachments"]] == ["jalan.png"]
    # The same form sent again (a double click) makes no second complaint, and sends no file twice.
    again = browser.submit(form, "report-form", REPORT, files)
    assert again.text("#tracking-id") == tracking_id and again.has("#files-replayed")
    assert [li.select(".filename")[0].get_text() for li in again.soup.select("#files li.file-added")] == ["jalan.png"]
    assert len(api.reporter_view({"tracking_id": tracking_id, "receipt": receipt})["attachments"]) == 1
    # Typed in lowercase, with spaces for dashes and digits for the letters O and I, the receipt still opens the case.
    mistyped = receipt.lower().replace("-", " ").replace("o", "0").replace("i", "1")
    opened = browser.submit(
        browser.get("/track"), "track-form", {"tracking_id": tracking_id.lower(), "receipt": mistyped}
    )
    assert opened.text("#case-title") == REPORT["title"]
    # The receipt is in a cookie for the case pages, never in a URL.
    case = browser.get(f"/track/{tracking_id}")
    assert case.text("#case-title") == REPORT["title"]
    assert receipt not in str(case.response.url) and receipt not in case.response.text


def test_a_wrong_receipt_and_an_unknown_case_get_the_same_message(browser: Browser, api: Api) -> None:
    made = api.submit()
    form = browser.get(f"/track?tracking_id={made['tracking_id']}")
    assert form.one("input#tracking_id")["value"] == made["tracking_id"]
    wrong = browser.submit(form, "track-form", {"tracking_id": made["tracking_id"], "receipt": "AAAA-BBBB-CCCC"})
    unknown = browser.submit(form, "track-form", {"tracking_id": "SPL-0000000000", "receipt": made["receipt"]})
    assert wrong.status == unknown.status == 404
    assert wrong.text("#error-summary-message") == unknown.text("#error-summary-message")
    assert wrong.one("input#tracking_id")["value"] == made["tracking_id"], "the input is kept"
    # Without the receipt cookie, the case page is the form, with the tracking number filled in.
    bare = Browser(browser.client.base_url.__str__())
    try:
        page = bare.get(f"/track/{made['tracking_id']}")
        assert page.has("form#track-form") and page.one("input#tracking_id")["value"] == made["tracking_id"]
    finally:
        bare.close()


def test_each_citizen_is_counted_by_their_own_address(hub: Hub, api: Api) -> None:
    made = api.submit()
    guesser = Browser(hub.base_url, headers={"X-Forwarded-For": "198.51.100.7"})
    other = Browser(hub.base_url, headers={"X-Forwarded-For": "198.51.100.8"})
    try:
        form = guesser.get("/track")
        pages = [
            guesser.submit(form, "track-form", {"tracking_id": made["tracking_id"], "receipt": f"WRONG-{n}"})
            for n in range(RECEIPT_TRIES + 1)
        ]
        assert [p.status for p in pages] == [404] * RECEIPT_TRIES + [429]
        assert "15 menit" in pages[-1].text("#error-summary-message")
        # Another citizen behind the same portal is not locked out: the limit is per citizen, not per portal.
        opened = other.submit(other.get("/track"), "track-form", made)
        assert opened.status == 200 and opened.text("#case-tracking-id") == made["tracking_id"]
    finally:
        guesser.close()
        other.close()


def test_forms_refuse_a_missing_or_foreign_csrf_token(browser: Browser, api: Api) -> None:
    made = api.submit()
    form = browser.get("/track")
    forged = browser.submit(form, "track-form", {**made, "csrf_token": "0" * 64})
    assert forged.status == 403 and forged.has("#error-message")
    stranger = httpx.post(f"{browser.client.base_url}/track", data=made)
    assert stranger.status_code == 403
    report = httpx.post(f"{browser.client.base_url}/report", data=REPORT, files={"attachments": ("", b"")})
    assert report.status_code == 403 and "tracking-id" not in report.text


def test_opening_a_case_keeps_the_receipt_in_a_sealed_cookie_until_log_out(browser: Browser, api: Api) -> None:
    made = api.submit()
    form = browser.get("/track")
    opened = browser.submit(form, "track-form", made, follow=False)
    assert opened.status == 303 and opened.response.headers["location"] == f"/track/{made['tracking_id']}"
    cookie = opened.response.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/track" in cookie
    assert made["receipt"] not in cookie
    case = browser.get(opened.response.headers["location"])
    assert case.one("#status")["data-status"] == "submitted"
    out = browser.submit(case, "forget-form", {})
    assert out.has("#forgotten") and out.has("form#track-form")
    again = browser.get(f"/track/{made['tracking_id']}")
    assert again.has("form#track-form") and not again.has("#case-title")


def test_the_case_page_shows_the_answer_takes_a_reply_a_dispute_and_a_rating(browser: Browser, api: Api) -> None:
    api.node("PEMKOT-MKS", "instansi", region_codes=["7371"])
    key = api.key("PEMKOT-MKS")
    rule = {"agency_code": "PEMKOT-MKS", "region_code": "7371", "priority": 0}
    api.ok(api.client.post("/api/v1/hub/routing-rules", json=rule, headers=api.admin), 201)
    sent = send_report(browser, region_code="7371", title="Lampu jalan padam")
    tid = sent.text("#tracking-id")
    wait_for(lambda: tid in api.inbox(key), timeout=30)

    api.ok(api.client.post(f"/api/v1/agency/complaints/{tid}/acknowledge", headers=key), 200)
    case = browser.get(f"/track/{tid}")
    assert case.one("#status")["data-status"] in ("dispositioned", "in_progress")
    assert "WITA" in case.text("#timeline"), "Makassar's times are in Central Indonesian Time"
    assert "Diteruskan ke" in case.text("#timeline") and "PEMKOT-MKS" in case.text("#timeline")
    assert case.text("#case-region") == "Kota Makassar" and "PEMKOT-MKS" in case.text("#case-agency")
    reply = browser.submit(case, "reply-form", {"content": "Lampu di depan nomor 12 juga padam."})
    assert reply.has("#sent") and "Lampu di depan nomor 12" in reply.text("#messages")

    empty = browser.submit(reply, "reply-form", {"content": ""})
    assert empty.status == 422 and empty.has("#content-error")

    upload = api.client.post(
        f"/api/v1/agency/complaints/{tid}/attachments",
        files={"file": ("surat.txt", b"Surat tugas perbaikan.")},
        headers=key,
    )
    stored = api.ok(upload, 201)
    answer = {"content": "Lampu sudah diganti.", "is_final": True, "attachment_ids": [stored["id"]]}
    api.ok(api.client.post(f"/api/v1/agency/complaints/{tid}/follow-ups", json=answer, headers=key), 201)
    case = wait_for(lambda: (p := browser.get(f"/track/{tid}")).one("#status")["data-status"] == "answered" and p)
    assert "Lampu sudah diganti." in case.text("#answers")
    link = case.one(f"#answers a[href='/track/{tid}/attachments/{stored['id']}']")
    download = browser.client.get(str(link["href"]))
    assert download.status_code == 200 and download.content == b"Surat tugas perbaikan."
    assert download.headers["content-disposition"].startswith("attachment")
    assert download.headers["x-content-type-options"] == "nosniff"

    disputed = browser.submit(case, "reply-form", {"content": "Masih padam.", "disputes_answer": "true"})
    assert disputed.has("#sent") and not disputed.has("#rating-form")
    assert disputed.one("#status")["data-status"] == "in_progress" or disputed.has("#status-pending")
    case = wait_for(lambda: (p := browser.get(f"/track/{tid}")).one("#status")["data-status"] == "in_progress" and p)
    assert not case.has("#rating-form"), "no rating while the case is back with the agency"

    api.ok(
        api.client.post(
            f"/api/v1/agency/complaints/{tid}/follow-ups", json={**answer, "attachment_ids": []}, headers=key
        ),
        201,
    )
    case = wait_for(lambda: (p := browser.get(f"/track/{tid}")).has("#rating-form") and p)
    html = case.response.text
    assert html.index('id="reply-form"') < html.index('id="rating-form"'), "reply or dispute before rating"
    no_score = browser.submit(case, "rating-form", {"comment": "Cepat"})
    assert (
        no_score.status == 422
        and no_score.has("#score-error")
        and no_score.one("textarea#comment").get_text() == "Cepat"
    )
    rated = browser.submit(case, "rating-form", {"score": "4", "comment": "Cepat"})
    assert rated.has("#sent") and "4" in rated.text("#rating") and not rated.has("#rating-form")
    assert rated.one("#status")["data-status"] == "completed" or rated.has("#status-pending")
    steps = [li.get_text(strip=True) for li in rated.soup.select("#timeline li .timeline-what")]
    assert "Diteruskan ke Node PEMKOT-MKS" in steps, steps
    assert all(a != b for a, b in zip(steps, steps[1:], strict=False)), f"no step twice in a row: {steps}"
    assert not any(word in " ".join(steps) for word in ("rule", "follow-up", "disputes", "rated")), steps


def test_a_file_added_later_from_the_case_page(browser: Browser, api: Api) -> None:
    tid = send_report(browser).text("#tracking-id")
    case = browser.get(f"/track/{tid}")
    added = browser.submit(case, "files-form", {}, [("foto.png", PNG)])
    assert added.has("#sent") and [a.get_text() for a in added.soup.select("#own-files a.download")] == ["foto.png"]
    nothing = browser.submit(added, "files-form", {})
    assert nothing.status == 422 and nothing.has("#attachments-error")


def test_the_form_offers_the_reference_lists_and_explains_what_the_hub_did_not_know(browser: Browser) -> None:
    form = browser.get("/report")
    groups = form.soup.select("select#category optgroup")
    assert groups and all(g.select("option") for g in groups), "categories under their parents"
    assert all(g.select("option")[0].get_text() == f"{g['label']} — lainnya / tidak yakin" for g in groups)
    assert "petugas Simpul" in form.text("#category-hint") and not re.search(r"\bhub\b", form.text("main"), re.I)
    provinces = form.soup.select("select#region_code optgroup")
    assert len(provinces) == 38
    jatim = next(g for g in provinces if g.select("option[data-province]")[0]["value"] == "35")
    assert "3578" in {o["value"] for o in jatim.select("option")}, "Surabaya under Jawa Timur"
    english = browser.get("/report?lang=en").soup.select("select#category option")
    assert {o.get_text() for o in english} != {o.get_text() for o in form.soup.select("select#category option")}
    browser.get("/?lang=id")
    # A form sent with a category and a region the hub does not know is taken, and says so in plain words.
    page = browser.submit(form, "report-form", {**REPORT, "category": "tidak-ada", "region_code": "9999"})
    assert page.status == 200 and len(page.soup.select("#warnings li")) == 2
    # A known category and region are named on the case page.
    chosen = next(o for g in groups for o in g.select("option")[1:])
    known = browser.submit(
        browser.get("/report"), "report-form", {**REPORT, "category": str(chosen["value"]), "region_code": "3578"}
    )
    case = browser.get(str(known.one("a#case-link")["href"]))
    assert case.text("#case-category") == chosen.get_text() and case.text("#case-region") == "Kota Surabaya"
