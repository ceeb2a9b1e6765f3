"""The SSRF guard: a webhook never reaches into internal networks unless a network is allowed. A literal address is
refused at registration; a name that resolves into a refused network is refused at each delivery (a failed attempt,
retried like any other), and delivered once its network is allowed."""

from __future__ import annotations

import ipaddress
import re
import socket
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import ValidationError

from agency_svc.settings import AgencySettings
from agency_svc.webhooks.destinations import (
    BlockedDestination,
    DestinationPolicy,
    GuardedTransport,
    literal_address,
)
from services.ports import free_port
from services.registry import BY_NAME
from services.secrets_store import load_or_create
from services.supervisor import child_env
from services.up import HubSetup, service_env
from shared.http.client_address import IPAddress, parse_networks
from tests.agency_svc.conftest import Agency, new_tid
from tests.agency_svc.webhook_peers import deliveries, receiver, register, wait_delivery, webhook_agency
from tests.support.apps import eventually
from tests.support.databases import TestDatabase

BASE = "/api/v1/agency/webhooks"
SECRET = "whsec_receiver-shared-secret-42"
EVENTS = ["complaint.dispositioned", "complaint.status_changed"]

INTERNAL = [
    "127.0.0.1",
    "127.8.9.10",
    "10.0.0.5",
    "172.16.3.4",
    "192.168.1.10",
    "169.254.169.254",  # cloud metadata
    "100.64.0.1",  # shared address space (carrier-grade NAT)
    "0.0.0.0",
    "224.0.0.1",
    "239.255.255.250",
    "240.0.0.1",
    "255.255.255.255",
    "::1",
    "::",
    "fe80::1",
    "fc00::1",
    "fd12:3456::1",
    "ff02::1",
    "::ffff:10.0.0.5",  # IPv4-mapped
    "::ffff:127.0.0.1",
    "2002:a00:5::1",  # 6to4 around 10.0.0.5
    "64:ff9b::7f00:1",  # NAT64 around 127.0.0.1
]
PUBLIC = ["8.8.8.8", "93.184.216.34", "2606:4700:4700::1111", "2001:4860:4860::8888", "::ffff:8.8.8.8"]


@pytest.mark.parametrize("address", INTERNAL)
def test_internal_addresses_are_refused_by_default(address: str) -> None:
    assert DestinationPolicy().is_blocked(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", PUBLIC)
def test_public_addresses_pass(address: str) -> None:
    assert not DestinationPolicy().is_blocked(ipaddress.ip_address(address))


def test_allowed_networks_let_their_addresses_through_and_nothing_else() -> None:
    policy = DestinationPolicy(parse_networks("127.0.0.0/8, 10.20.0.0/16"))
    for allowed in ("127.0.0.1", "127.9.9.9", "::ffff:127.0.0.1", "10.20.30.40"):
        assert not policy.is_blocked(ipaddress.ip_address(allowed)), allowed
    for refused in ("::1", "10.21.0.1", "192.168.1.1", "169.254.169.254"):
        assert policy.is_blocked(ipaddress.ip_address(refused)), refused


def test_a_literal_host_is_read_in_every_form_a_resolver_takes() -> None:
    assert literal_address("10.0.0.5") == ipaddress.ip_address("10.0.0.5")
    assert literal_address("::1") == ipaddress.ip_address("::1")
    assert literal_address("2130706433") == ipaddress.ip_address("127.0.0.1")
    assert literal_address("0x7f.1") == ipaddress.ip_address("127.0.0.1")
    assert literal_address("127.1") == ipaddress.ip_address("127.0.0.1")
    assert literal_address("hooks.lapas-sby.example") is None
    assert literal_address("localhost") is None


def test_a_bad_allowed_network_is_a_configuration_error() -> None:
    with pytest.raises(ValidationError, match="webhook_allowed_networks"):
        AgencySettings(webhook_allowed_networks="10.0.0.0/33")
    assert AgencySettings(webhook_allowed_networks="").webhook_allowed_network_list() == ()
    assert AgencySettings(webhook_allowed_networks="127.0.0.0/8, ::1").webhook_allowed_network_list() == (
        ipaddress.ip_network("127.0.0.0/8"),
        ipaddress.ip_network("::1/128"),
    )


def test_simpul_up_refuses_loopback_webhooks_unless_the_operator_allows_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An agency key must not make the single-machine hub POST to its own loopback services: nothing is allowed
    unless the operator sets the variable, which reaches the agency process as it is."""
    name = "SIMPUL_AGENCY_WEBHOOK_ALLOWED_NETWORKS"
    secrets = load_or_create(tmp_path, list(BY_NAME), None)

    hub = HubSetup(
        data_dir=tmp_path,
        nats_url="nats://127.0.0.1:1",
        secrets=secrets,
        gateway_url="",
        postgres=None,
        schema_prefix="",
    )

    def agency_settings() -> AgencySettings:
        env = child_env(service_env(BY_NAME["agency"], hub, port=1))
        return AgencySettings(webhook_allowed_networks=env.get(name, ""))

    monkeypatch.delenv(name, raising=False)
    assert all(name not in service_env(BY_NAME[s], hub, port=1) for s in BY_NAME)
    policy = DestinationPolicy(agency_settings().webhook_allowed_network_list())
    assert policy.is_blocked(ipaddress.ip_address("127.0.0.1")) and policy.is_blocked(ipaddress.ip_address("::1"))
    monkeypatch.setenv(name, "127.0.0.0/8")  # the operator's own choice
    assert agency_settings().webhook_allowed_network_list() == parse_networks("127.0.0.0/8")


def _resolver(*answers: str, calls: list[str] | None = None) -> Any:
    async def resolve(host: str, port: int) -> list[IPAddress]:
        if calls is not None:
            calls.append(f"{host}:{port}")
        return [ipaddress.ip_address(a) for a in answers]

    return resolve


async def test_the_transport_connects_to_the_address_it_vetted_with_the_hosts_name() -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(204)

    calls: list[str] = []
    guard = GuardedTransport(DestinationPolicy(), httpx.MockTransport(answer), _resolver("93.184.216.34", calls=calls))
    async with httpx.AsyncClient(transport=guard) as client:
        r = await client.post("https://hooks.lapas-sby.example/simpul?t=1", content=b"{}")
    assert r.status_code == 204 and calls == ["hooks.lapas-sby.example:443"], "resolved once, by the guard"
    [sent] = seen
    assert str(sent.url) == "https://93.184.216.34/simpul?t=1"
    assert sent.headers["host"] == "hooks.lapas-sby.example"
    assert sent.extensions["sni_hostname"] == "hooks.lapas-sby.example", "TLS checks the host's name"


async def test_one_refused_address_refuses_the_request_before_anything_is_sent() -> None:
    sent: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200)

    inner = httpx.MockTransport(record)
    guard = GuardedTransport(DestinationPolicy(), inner, _resolver("93.184.216.34", "10.0.0.5"))
    async with httpx.AsyncClient(transport=guard) as client:
        with pytest.raises(BlockedDestination, match=r"^refused: 10\.0\.0\.5 is in a blocked network$"):
            await client.post("http://rebind.example/x", content=b"{}")
    assert sent == []


async def test_the_next_vetted_address_is_tried_when_one_does_not_connect() -> None:
    tried: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        tried.append(str(request.url))
        if request.url.host == "2606:4700:4700::1111":
            raise httpx.ConnectError("unreachable", request=request)
        return httpx.Response(200)

    guard = GuardedTransport(
        DestinationPolicy(), httpx.MockTransport(answer), _resolver("2606:4700:4700::1111", "8.8.8.8")
    )
    async with httpx.AsyncClient(transport=guard) as client:
        r = await client.post("http://two.example:8080/x", content=b"{}")
    assert r.status_code == 200
    assert tried == ["http://[2606:4700:4700::1111]:8080/x", "http://8.8.8.8:8080/x"]


async def test_a_name_that_does_not_resolve_is_a_connect_error() -> None:
    async def nowhere(host: str, port: int) -> list[IPAddress]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    guard = GuardedTransport(DestinationPolicy(), httpx.MockTransport(lambda _: httpx.Response(200)), nowhere)
    async with httpx.AsyncClient(transport=guard) as client:
        with pytest.raises(httpx.ConnectError, match="cannot resolve nowhere.invalid"):
            await client.post("http://nowhere.invalid/x", content=b"{}")


BLOCKED_URLS = [
    "http://127.0.0.1:8080/hook",
    "http://10.0.0.5/hook",
    "https://192.168.1.10/hook",
    "http://169.254.169.254/latest/meta-data/",
    "http://[::1]:8080/hook",
    "http://[::ffff:10.0.0.5]/hook",
    "http://[fe80::1]/hook",
    "http://0.0.0.0:9/hook",
    "http://2130706433/hook",
    "http://0x7f.1/hook",
]


async def test_a_literal_internal_address_is_refused_at_registration_and_change(tree: Agency) -> None:
    for url in BLOCKED_URLS:
        r = await tree.client.post(BASE, json={"url": url, "event_types": EVENTS}, headers=tree.h("UPT"))
        assert r.status_code == 422, (url, r.text)
        error = r.json()["error"]
        assert error["code"] == "webhook_destination_blocked", url
        assert "is in a blocked network" in error["message"], url
    assert (await tree.client.get(BASE, headers=tree.h("UPT"))).json()["items"] == []

    public = {"url": "https://8.8.8.8/hook", "event_types": EVENTS}
    created = (await tree.client.post(BASE, json=public, headers=tree.h("UPT"))).json()
    for url in ("http://10.1.2.3/x", "http://[::1]/x"):
        r = await tree.client.patch(f"{BASE}/{created['id']}", json={"url": url}, headers=tree.h("UPT"))
        assert r.status_code == 422 and r.json()["error"]["code"] == "webhook_destination_blocked", url
    kept = (await tree.client.get(f"{BASE}/{created['id']}", headers=tree.h("UPT"))).json()
    assert kept["url"] == "https://8.8.8.8/hook"

    named = {"url": "http://localhost:9/hook", "event_types": EVENTS}  # a name: checked when it is resolved
    assert (await tree.client.post(BASE, json=named, headers=tree.h("UPT"))).status_code == 201


async def test_an_allowed_network_may_be_registered_and_no_other(
    database: TestDatabase, natsd: Any, tmp_path: Path
) -> None:
    async with webhook_agency(database, natsd, tmp_path, webhook_allowed_networks="127.0.0.0/8") as agency:
        for url in ("http://127.0.0.1:8080/hook", "http://[::ffff:127.0.0.1]:8080/hook"):
            r = await agency.client.post(BASE, json={"url": url, "event_types": EVENTS}, headers=agency.h("UPT"))
            assert r.status_code == 201, (url, r.text)
        for url in ("http://10.0.0.5/hook", "http://[::1]:8080/hook"):
            r = await agency.client.post(BASE, json={"url": url, "event_types": EVENTS}, headers=agency.h("UPT"))
            assert r.status_code == 422 and r.json()["error"]["code"] == "webhook_destination_blocked", url


async def test_a_name_resolving_to_loopback_is_refused_at_delivery_until_loopback_is_allowed(
    database: TestDatabase, natsd: Any, tmp_path: Path
) -> None:
    port = free_port()
    url = f"http://localhost:{port}/hooks/simpul"
    tid = new_tid()
    async with receiver(SECRET, port=port) as peer:
        async with webhook_agency(database, natsd, tmp_path, webhook_allowed_networks="") as guarded:
            hook = await register(guarded, "UPT", url, *EVENTS, secret=SECRET)
            await guarded.dispose(tid, "UPT", 1)

            async def refused_twice() -> dict[str, Any] | None:
                items = await deliveries(guarded, "UPT", hook["id"])
                return items[0] if items and items[0]["attempts"] >= 2 else None

            refused = await eventually(refused_twice)
            keys = guarded.keys
        assert refused["status"] == "pending", "refused like any failed attempt: retried"
        assert refused["last_status_code"] is None
        for attempt in refused["attempt_log"]:
            assert attempt["status_code"] is None
            assert re.fullmatch(r"refused: (127\.0\.0\.1|::1) is in a blocked network", attempt["error"]), attempt
        assert peer.arrived == 0, "nothing reached the receiver"

        # localhost may resolve to ::1 as well as 127.0.0.1: both are allowed, or the delivery stays refused.
        loopback: dict[str, Any] = {"webhook_allowed_networks": "127.0.0.0/8, ::1"}
        async with webhook_agency(database, natsd, tmp_path, keys=keys, **loopback) as allowed:
            done = await wait_delivery(allowed, "UPT", hook["id"], status="delivered")
    assert done["delivery_id"] == refused["delivery_id"] and done["attempt_log"][-1]["status_code"] == 200
    [got] = peer.received
    assert got.verified and got.body["tracking_id"] == tid
    assert got.headers["host"] == f"localhost:{port}", "sent to the vetted address, under the URL's host name"
