"""The portal's parts in-process: dates and zones, languages, catalogs, CSRF and the receipt cookie, and a page
when the API does not answer."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import httpx
import pytest
from pydantic import SecretStr
from starlette.datastructures import FormData
from starlette.requests import Request

from services.gateway import create_gateway
from services.ports import free_port
from services.web.api import Visitor
from services.web.app import create_app
from services.web.catalogs import extract, read
from services.web.dates import local_date, local_datetime, zone_of_region
from services.web.i18n import chosen_language, from_accept_language
from services.web.report_form import ReportForm
from services.web.security import Keys, csrf_token, csrf_valid, open_cases, seal_cases
from services.web.settings import WebSettings
from services.web.track import status_pending, tracking_id_of
from services.web.words import PHONE_NOT_ACCEPTED
from shared.clock import latest_today
from shared.domain import Timezone
from tests.services.gateway_peers import serving
from tests.web.browser import Page

SECRET = "portal-test-secret-0123456789abcdefghij"


@pytest.mark.parametrize(
    ("region", "zone"),
    [("3578", Timezone.WIB), ("12", Timezone.WIB), ("6171", Timezone.WIB), ("5171", Timezone.WITA),
     ("7371", Timezone.WITA), ("6472", Timezone.WITA), ("8171", Timezone.WIT), ("9471", Timezone.WIT),
     (None, Timezone.WIB), ("", Timezone.WIB)],
)  # fmt: skip
def test_a_regions_zone_comes_from_its_province(region: str | None, zone: Timezone) -> None:
    assert zone_of_region(region) is zone


def test_the_reference_datas_zone_wins_over_the_table() -> None:
    assert zone_of_region("6171", {"61": "WITA"}) is Timezone.WITA
    assert zone_of_region("6171", {"61": "Asia/Jayapura"}) is Timezone.WIT


def test_dates_read_the_indonesian_way() -> None:
    moment = datetime(2026, 12, 7, 7, 30, tzinfo=UTC)
    assert local_datetime(moment, Timezone.WIB, "id") == "7 Desember 2026 14.30 WIB"
    assert local_datetime(moment, Timezone.WIT, "id") == "7 Desember 2026 16.30 WIT"
    assert local_datetime(moment, Timezone.WITA, "en") == "7 December 2026, 15:30 WITA"
    assert local_date(moment.date(), "id") == "7 Desember 2026"


def test_the_language_is_asked_for_then_remembered_then_negotiated() -> None:
    assert from_accept_language("en-US,en;q=0.9") == "en"
    assert from_accept_language("fr, en;q=0.2, id;q=0.8") == "id"
    assert from_accept_language("fr, de") is None
    assert from_accept_language("en;q=0") is None
    assert chosen_language({}, {}, "") == "id"
    assert chosen_language({}, {}, "en") == "en"
    assert chosen_language({}, {"simpul_lang": "id"}, "en") == "id"
    assert chosen_language({"lang": "en"}, {"simpul_lang": "id"}, "id") == "en"
    assert chosen_language({"lang": "fr"}, {}, "") == "id"


def test_every_message_has_its_indonesian_words_and_the_same_placeholders() -> None:
    used = {str(m.id) for m in extract() if m.id}
    indonesian = {str(m.id): str(m.string) for m in read("id") if m.id}
    english = {str(m.id) for m in read("en") if m.id}
    assert used <= set(indonesian), f"not in the catalog: {sorted(used - set(indonesian))}"
    assert used <= english
    untranslated = sorted(m for m in used if not indonesian[m])
    assert not untranslated, f"run python -m services.web.catalogs and translate: {untranslated}"
    for msgid in used:
        assert sorted(re.findall(r"%\(\w+\)s", msgid)) == sorted(re.findall(r"%\(\w+\)s", indonesian[msgid]))


def test_a_csrf_token_is_good_only_with_its_own_cookie() -> None:
    keys = Keys.from_secret(SECRET)
    token = csrf_token(keys, "cookie-a")
    assert csrf_valid(keys, "cookie-a", token)
    assert not csrf_valid(keys, "cookie-b", token)
    assert not csrf_valid(keys, None, token) and not csrf_valid(keys, "cookie-a", None)
    assert not csrf_valid(Keys.from_secret(SECRET[::-1]), "cookie-a", token), "another portal's token"


def test_the_receipt_cookie_is_sealed_and_keeps_the_newest_cases() -> None:
    keys = Keys.from_secret(SECRET)
    sealed = seal_cases(keys, {f"SPL-{n}": f"RECEIPT-{n}" for n in range(8)})
    assert "RECEIPT" not in sealed
    opened = open_cases(keys, sealed, 3600)
    assert list(opened) == [f"SPL-{n}" for n in range(3, 8)]
    assert open_cases(keys, sealed[:-2] + "xx", 3600) == {}
    assert open_cases(Keys.from_secret(SECRET[::-1]), sealed, 3600) == {}


def test_the_visitor_is_passed_on_as_a_proxy_names_its_client() -> None:
    scope = {
        "type": "http",
        "headers": [(b"x-forwarded-for", b"198.51.100.7"), (b"x-forwarded-for", b"10.0.0.1")],
        "client": ("127.0.0.1", 5000),
    }
    assert Visitor.of(Request(scope)).forwarded_for == "198.51.100.7, 10.0.0.1, 127.0.0.1"
    assert Visitor.of(Request({"type": "http", "headers": [], "client": None})).forwarded_for == "unknown"


async def test_an_api_that_does_not_answer_keeps_the_form_and_says_so() -> None:
    settings = WebSettings(secret=SecretStr(SECRET), api_base_url=f"http://127.0.0.1:{free_port()}", api_timeout_s=5)
    app = create_app(settings)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://portal") as client:
        form = Page(await client.get("/report"))
        assert form.status == 200 and not form.has("select#category"), "no category list without the API"
        data = {
            **form.hidden("report-form"),
            "classification": "aspirasi",
            "title": "Taman kota",
            "content": "Tambahkan bangku di taman kota.",
        }
        page = Page(await client.post("/report", data=data, files={"attachments": ("", b"")}))
        assert page.status == 503
        assert "Layanan sedang tidak tersedia" in page.text("#error-summary-message")
        assert page.one("input#title")["value"] == "Taman kota"
        assert page.one("textarea#content").get_text() == "Tambahkan bangku di taman kota."
        case = Page(await client.post("/track", data={**Page(await client.get("/track")).hidden("track-form"),
                                                       "tracking_id": "SPL-0000000000", "receipt": "X"}))  # fmt: skip
        assert case.status == 503 and case.has("#error-title")


async def test_the_portal_is_ready_only_while_the_api_answers() -> None:
    async with serving(create_gateway([])) as api_url:
        app = create_app(WebSettings(secret=SecretStr(SECRET), api_base_url=api_url))
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://portal") as client:
            ready = await client.get("/readyz")
            assert ready.status_code == 200 and ready.json() == {"status": "ready", "service": "web"}
            assert (await client.get("/healthz")).status_code == 200
    app = create_app(WebSettings(secret=SecretStr(SECRET), api_base_url=f"http://127.0.0.1:{free_port()}"))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://portal") as client:
        down = await client.get("/readyz")
        assert down.status_code == 503 and down.json()["checks"] == {"api": "down"}
        assert (await client.get("/healthz")).status_code == 200, "alive all the same"


def test_the_portal_will_not_start_without_a_real_secret() -> None:
    with pytest.raises(ValueError, match="SIMPUL_WEB_SECRET"):
        WebSettings(secret=SecretStr("short"))


async def test_a_form_too_large_is_refused_with_a_page_before_it_is_read() -> None:
    settings = WebSettings(secret=SecretStr(SECRET), max_report_bytes=64 * 1024)
    app = create_app(settings)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://portal") as client:
        form = Page(await client.get("/report"))
        big = {"attachments": ("foto.jpg", b"x" * (128 * 1024), "image/jpeg")}
        page = Page(await client.post("/report", data=form.hidden("report-form"), files=big))
        assert page.status == 413 and page.response.headers["content-type"].startswith("text/html")

        async def trickle() -> AsyncIterator[bytes]:
            yield b'--x\r\nContent-Disposition: form-data; name="attachments"; filename="a.jpg"\r\n\r\n'
            for _ in range(4):
                yield b"x" * (32 * 1024)

        streamed = await client.post(
            "/report", content=trickle(), headers={"Content-Type": "multipart/form-data; boundary=x"}
        )
        assert streamed.status_code == 413 and "text/html" in streamed.headers["content-type"]


def test_the_form_finds_every_mistake_the_api_would_in_one_round() -> None:
    tomorrow = (latest_today() + timedelta(days=1)).isoformat()
    fields = {"classification": "pengaduan", "title": "Jalan rusak", "content": "Lubang besar di jalan."}
    wrong = ReportForm.read(
        FormData({**fields, "incident_date": tomorrow, "reporter.email": "siti@", "reporter.phone": "12ab"})
    )
    assert set(wrong.errors) == {"incident_date", "reporter.email", "reporter.phone"}
    landline = ReportForm.read(FormData({**fields, "reporter.phone": "021 555 1234"}))
    assert landline.errors == {"reporter.phone": PHONE_NOT_ACCEPTED}
    right = ReportForm.read(
        FormData({**fields, "incident_date": latest_today().isoformat(), "reporter.email": "siti@example.test",
                  "reporter.phone": "0812 3456 7890"})
    )  # fmt: skip
    assert right.errors == {}
    assert not ReportForm.read(FormData({**fields, "reporter.phone": "+44 7700 900123"})).errors, "the API's to judge"


def test_a_rating_or_a_dispute_not_yet_reflected_in_the_status_is_said_to_be_on_its_way() -> None:
    answer = {"posted_at": "2026-12-07T08:00:00Z"}
    answered = {"status": "answered", "follow_ups": [answer], "messages": [], "rating": None}
    assert not status_pending(answered)
    assert status_pending({**answered, "rating": {"score": 4}})
    dispute = {"sent_at": "2026-12-07T09:00:00.5Z", "disputes_answer": True}
    assert status_pending({**answered, "messages": [dispute]})
    assert not status_pending({**answered, "messages": [{**dispute, "sent_at": "2026-12-07T07:00:00Z"}]})
    assert not status_pending({**answered, "status": "in_progress", "messages": [dispute]})


async def test_an_api_that_takes_the_report_but_never_answers_may_have_received_it() -> None:
    taken: list[bytes] = []

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        taken.append(await reader.read(65536))
        await reader.read()  # holds the connection open, unanswered, until the portal gives up on it
        writer.close()

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    settings = WebSettings(secret=SecretStr(SECRET), api_base_url=f"http://127.0.0.1:{port}", api_timeout_s=0.5)
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(settings)), base_url="http://p") as c:
            form = Page(await c.get("/report"))
            data = {**form.hidden("report-form"), "classification": "aspirasi", "title": "Taman", "content": "Bangku."}
            page = Page(await c.post("/report", data=data))
            assert page.status == 503
            assert "Laporan Anda mungkin sudah diterima" in page.text("#error-summary-message")
            assert page.one("input[name=form_token]")["value"] == data["form_token"], "sent again, the same key"
            assert any(b"POST /api/v1/complaints" in request for request in taken)
    finally:
        server.close()


async def test_a_form_another_site_sent_is_refused_before_its_body_is_read() -> None:
    settings = WebSettings(secret=SecretStr(SECRET), api_base_url=f"http://127.0.0.1:{free_port()}", api_timeout_s=5)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(settings)), base_url="http://web") as c:
        fields = {**Page(await c.get("/track")).hidden("track-form"), "tracking_id": "SPL-0000000000", "receipt": "X"}
        read: list[bytes] = []

        async def body() -> AsyncIterator[bytes]:
            chunk = urlencode(fields).encode()
            read.append(chunk)
            yield chunk

        for foreign in ({"Origin": "https://evil.example"}, {"Sec-Fetch-Site": "cross-site"}):
            headers = {"Content-Type": "application/x-www-form-urlencoded", **foreign}
            refused = await c.post("/track", content=body(), headers=headers)
            assert refused.status_code == 403 and not read, foreign
        for own in ({"Origin": "http://web", "Sec-Fetch-Site": "same-origin"}, {"Origin": "null"}):
            taken = await c.post("/track", data=fields, headers=own)
            assert taken.status_code == 503, f"past the checks, to the API (which is not there): {own}"


def test_a_tracking_number_is_read_by_the_domains_own_pattern() -> None:
    assert tracking_id_of(" spl-7k3f 9q2xab ") == "SPL-7K3F9Q2XAB"
    assert (
        tracking_id_of("SPL") is None and tracking_id_of("SPL_7K3F9Q2XAB") is None and tracking_id_of("A" * 41) is None
    )
