"""routing_svc's app: the hub core (directory, categories, keys, routing rules, cases, decisions, SLA clocks,
statistics) and the public reference lists."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta

from fastapi import FastAPI

from routing_svc.attachments.endpoints import router as attachments_router
from routing_svc.attachments.handlers import handlers as attachment_handlers
from routing_svc.calendar.endpoints import router as calendar_router
from routing_svc.cases.context import CaseContext
from routing_svc.cases.endpoints import router as cases_router
from routing_svc.cases.handlers import handlers as case_handlers
from routing_svc.categories.endpoints import router as categories_router
from routing_svc.categories.seed import seed_default_categories
from routing_svc.directory.endpoints import router as directory_router
from routing_svc.keys.endpoints import router as keys_router
from routing_svc.models import IDEMPOTENCY, KIT
from routing_svc.policies.endpoints import router as policies_router
from routing_svc.reference.endpoints import router as reference_router
from routing_svc.rules.endpoints import router as rules_router
from routing_svc.settings import RoutingSettings
from routing_svc.sla.engine import SlaEngine
from routing_svc.sla.schedule import ScheduleRules
from routing_svc.sla.sweep import sla_worker
from routing_svc.stats.endpoints import router as stats_router
from shared.bus.consumer import Subscription
from shared.bus.handlers import Handlers
from shared.calendar import WorkingCalendar
from shared.clock import Clock, load_clock
from shared.db.expiry import purge_expired_worker
from shared.events.topology import ROUTING_CASES, Service
from shared.files.uploads import reader_stores
from shared.http.app import build_app
from shared.identity import name_seal
from shared.outbox import Outbox
from shared.runtime import Runtime

DESCRIPTION = """\
The hub core. Coordinators keep the agency directory (a tree of nodes: instansi > unit utama / Kanwil > UPT),
issue API keys, define routing rules and SLA policies, work the triage queue and decide on cases (dispose, postpone,
reject). Every case's state machine lives here: it moves on agency work (acknowledge, follow-up, forward, delegate)
and reporter actions (reply, rating, withdrawal), and every transition is an event with its actor and reason.
Each case runs SLA clocks on the Indonesian working-day calendar (verification, first response, resolution,
reporter response); a late clock warns at 80% and climbs the escalation ladder: the node's liaison, its parent,
the hub's coordinators, and the oversight flag.
"""


def case_context(settings: RoutingSettings, clock: Clock, outbox: Outbox) -> CaseContext:
    rules = ScheduleRules(
        calendar=WorkingCalendar(settings.extra_holidays, settings.extra_working_days),
        escalation_interval_days=settings.escalation_interval_days,
        oversight_days=settings.oversight_days,
        archive_after=timedelta(days=settings.archive_after_days),
    )
    return CaseContext(
        settings=settings,
        outbox=outbox,
        clock=clock,
        sla=SlaEngine(rules=rules, hub_timezone=settings.hub_timezone.value),
        names=name_seal(settings.encryption_key_list(), settings.identity_key_list()),
    )


async def preload_calendar(runtime: Runtime[CaseContext]) -> None:
    """Builds this year's and next year's holidays in a thread at start, not on the event loop with a case."""
    ctx = runtime.context
    year = runtime.clock.now().year
    await asyncio.to_thread(ctx.sla.rules.calendar.preload, year, year + 1)


def create_app(settings: RoutingSettings | None = None, *, clock: Clock | None = None) -> FastAPI:
    settings = settings or RoutingSettings()
    clock = clock or load_clock(settings.clock)
    runtime = Runtime(
        settings,
        KIT,
        context=lambda runtime: replace(
            case_context(settings, runtime.clock, runtime.outbox),
            files=reader_stores(runtime.bus, Service.routing, settings),
        ),
        subscriptions=[Subscription(ROUTING_CASES, Handlers.joined(case_handlers, attachment_handlers))],
        workers=[sla_worker, preload_calendar, purge_expired_worker(IDEMPOTENCY, what="idempotency_keys")],
        startup=[seed_default_categories],
        clock=clock,
    )
    return build_app(
        runtime,
        title="Simpul hub",
        description=DESCRIPTION,
        routers=[
            directory_router,
            categories_router,
            reference_router,
            keys_router,
            rules_router,
            policies_router,
            calendar_router,
            cases_router,
            attachments_router,
            stats_router,
        ],
    )
