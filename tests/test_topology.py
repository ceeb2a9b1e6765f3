"""The event topology is the one source of the wiring: every event has a publisher and a consumer (or says why not),
every service's subscriptions match it, and the grants and the README's table are made from it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI

from agency_svc.app import create_app as agency_app
from agency_svc.settings import AgencySettings
from intake_svc.app import create_app as intake_app
from intake_svc.settings import IntakeSettings
from notify_svc.app import create_app as notify_app
from notify_svc.settings import NotifySettings
from routing_svc.app import create_app as routing_app
from routing_svc.settings import RoutingSettings
from services.nats_users import GRANTS, grants_table
from shared.bus.consumer import Subscription
from shared.bus.handlers import Handlers
from shared.bus.subjects import subject_matches
from shared.db.kit_tables import add_kit_tables, new_metadata
from shared.events import EVENT_MODELS
from shared.events.contracts import AttachmentAdded, ComplaintDispositioned, KeyIssued, ReporterRated
from shared.events.topology import (
    DURABLES,
    ROUTES,
    ROUTING_CASES,
    Durable,
    Route,
    Service,
    durables_of,
    event_table,
    filter_subjects,
    route_of,
    routes_of,
)
from shared.outbox import Outbox
from shared.settings import ServiceSettings
from tests.support.apps import keys_for

ROOT = Path(__file__).resolve().parents[1]


def test_every_event_has_exactly_one_route_per_subject_and_every_route_a_known_contract() -> None:
    subjects = [r.subject for r in ROUTES]
    assert subjects == list(dict.fromkeys(subjects)), "one route per subject"
    for route in ROUTES:
        assert len(routes_of(route.contract)) == 1 or route.contract.subject_has_owner, "one publisher per event"
        assert route_of(route.contract, route.subject) is route
    assert {r.contract for r in ROUTES} == set(EVENT_MODELS.values())


def test_an_event_with_several_publishers_names_its_owner_in_its_subject() -> None:
    assert [r.subject for r in routes_of(AttachmentAdded)] == [
        "simpul.attachment.added.intake",
        "simpul.attachment.added.agency",
    ]
    with pytest.raises(KeyError):
        route_of(AttachmentAdded)


def test_every_event_is_consumed_unless_it_is_published_for_outsiders_on_purpose() -> None:
    unconsumed = [r.contract.event_type for r in ROUTES if not r.consumers and not r.external]
    assert unconsumed == []
    for route in ROUTES:
        assert all(d in DURABLES for d in route.consumers), route
        assert route.publisher not in {d.service for d in route.consumers}, "a service does not consume its own events"


def test_every_durable_consumes_something_on_its_own_stream() -> None:
    for durable in DURABLES:
        routes = [r for r in ROUTES if durable in r.consumers]
        assert routes, f"{durable.name} consumes nothing"
        assert {r.stream for r in routes} == {durable.stream}, durable


def test_a_route_with_no_consumer_must_say_who_outside_reads_it() -> None:
    lonely = Route(ReporterRated, Service.intake, ())
    assert not lonely.consumers and lonely.external is None
    assert Route(ReporterRated, Service.intake, (), external="a data warehouse").external


APPS: list[tuple[Callable[[Any], FastAPI], type[ServiceSettings], Service]] = [
    (intake_app, IntakeSettings, Service.intake),
    (routing_app, RoutingSettings, Service.routing),
    (agency_app, AgencySettings, Service.agency),
    (notify_app, NotifySettings, Service.notify),
]


@pytest.mark.parametrize(("create", "settings_cls", "service"), APPS)
def test_each_service_subscribes_exactly_as_the_topology_says(
    create: Callable[[Any], FastAPI], settings_cls: type[ServiceSettings], service: Service, tmp_path: Path
) -> None:
    settings = settings_cls.model_validate({"data_dir": tmp_path, **keys_for(settings_cls)})
    runtime = create(settings).state.runtime
    assert [c.sub.durable for c in runtime.consumers] == list(durables_of(service))
    for consumer in runtime.consumers:
        durable = consumer.sub.durable
        assert consumer.sub.stream == durable.stream
        assert consumer.sub.subjects == filter_subjects(durable)
        assert consumer.sub.handlers.contracts == {r.contract for r in ROUTES if durable in r.consumers}


def test_a_subscription_that_misses_or_adds_a_handler_is_refused() -> None:
    empty = Handlers[None]()
    with pytest.raises(ValueError, match="handlers missing"):
        Subscription(ROUTING_CASES, empty)
    extra = Handlers[None]()

    @extra.on(KeyIssued)
    async def on_key(*_: object) -> None:
        return None

    with pytest.raises(ValueError, match="not routed here"):
        Subscription(ROUTING_CASES, extra)
    own = Durable("t-own", Service.routing)
    assert Subscription(own, extra).subjects == ["simpul.auth.key_issued"], "a durable outside the topology is free"


def test_a_service_may_write_only_the_events_it_publishes() -> None:
    event = ReporterRated(tracking_id="SPL-1", score=5, rated_at=datetime(2026, 1, 1, tzinfo=UTC))
    assert Outbox(add_kit_tables(new_metadata()).outbox, source="intake").envelope(event).source == "intake"
    with pytest.raises(ValueError, match="published by intake, not by agency"):
        Outbox(add_kit_tables(new_metadata()).outbox, source="agency").envelope(event)


def test_the_grants_are_made_from_the_topology() -> None:
    for service in Service:
        grants = GRANTS[service.value]
        assert {d for _, d in grants.durables} == {d.name for d in durables_of(service)}
        for route in ROUTES:
            concrete = route.subject.replace("*", "NODE")
            allowed = any(subject_matches(p, concrete) for p in grants.publishes)
            assert allowed == (route.publisher is service), (service, route.contract.event_type)
    assert GRANTS["notify"].publishes == ()
    assert route_of(ComplaintDispositioned).subject == "simpul.complaint.dispositioned.*"


def test_the_readme_table_is_the_topology() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert event_table() in readme, "paste `python -m shared.events.topology` into the README's section on events"


def test_the_deploy_readme_grants_table_is_the_grants() -> None:
    deploy_readme = (ROOT / "deploy" / "README.md").read_text(encoding="utf-8")
    assert grants_table() in deploy_readme, "paste services.nats_users.grants_table() into deploy/README.md"
