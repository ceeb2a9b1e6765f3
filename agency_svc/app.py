"""agency_svc's app: the agency API and the consumers that keep the inbox, directory and key replicas."""

from __future__ import annotations

from fastapi import FastAPI

from agency_svc.consumers import DIRECTORY, INBOX
from agency_svc.inbox.endpoints import router as inbox_router
from agency_svc.models import KIT
from agency_svc.settings import AgencySettings
from shared.http.app import build_app
from shared.runtime import Runtime

DESCRIPTION = """\
The agency side of the hub. Each agency node's system calls this API with the node's key and sees the cases
dispositioned to its node or any node under it (a Kanwil sees its UPTs' cases). It acknowledges a case, posts
follow-ups (tindak lanjut; the final one answers the case), asks for a forward (bukan wewenang) or delegates
to a node under the case's holder. A case outside the key's subtree answers 404. The hub owns each case's
status; this API reflects it as the hub reports it.
"""


def create_app(settings: AgencySettings | None = None) -> FastAPI:
    settings = settings or AgencySettings()
    runtime = Runtime(settings, KIT, subscriptions=[INBOX, DIRECTORY])
    return build_app(runtime, title="Simpul agency", description=DESCRIPTION, routers=[inbox_router])
