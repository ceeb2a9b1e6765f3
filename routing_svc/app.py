"""routing_svc's app: the hub core (directory, keys, routing rules, cases, decisions, statistics)."""

from __future__ import annotations

from fastapi import FastAPI

from routing_svc.cases.endpoints import router as cases_router
from routing_svc.cases.service import CaseContext
from routing_svc.consumers import case_subscription
from routing_svc.directory.endpoints import router as directory_router
from routing_svc.keys.endpoints import router as keys_router
from routing_svc.models import KIT
from routing_svc.rules.endpoints import router as rules_router
from routing_svc.settings import RoutingSettings
from routing_svc.stats.endpoints import router as stats_router
from shared.clock import Clock, load_clock
from shared.http.app import build_app
from shared.outbox import Outbox
from shared.runtime import Runtime

DESCRIPTION = """\
The hub core. Coordinators keep the agency directory (a tree of nodes: instansi > unit utama / Kanwil > UPT),
issue API keys, define routing rules, work the triage queue and decide on cases (dispose, postpone, reject).
Every case's state machine lives here: it moves on agency work (acknowledge, follow-up, forward, delegate) and
reporter actions (reply, rating, withdrawal), and every transition is an event with its actor and reason.
"""


def create_app(settings: RoutingSettings | None = None, *, clock: Clock | None = None) -> FastAPI:
    settings = settings or RoutingSettings()
    clock = clock or load_clock(settings.clock)
    ctx = CaseContext(
        outbox=Outbox(KIT.outbox, source=settings.service_name), clock=clock, max_forwards=settings.max_forwards
    )
    runtime = Runtime(settings, KIT, subscriptions=[case_subscription(ctx)], clock=clock)
    return build_app(
        runtime,
        title="Simpul hub",
        description=DESCRIPTION,
        routers=[directory_router, keys_router, rules_router, cases_router, stats_router],
    )
