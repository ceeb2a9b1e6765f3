"""Vocabulary shared by every service: classifications, statuses, reasons, channels, roles."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import StringConstraints


class Classification(StrEnum):
    pengaduan = "pengaduan"
    aspirasi = "aspirasi"
    permintaan_informasi = "permintaan_informasi"
    wbs = "wbs"


class Status(StrEnum):
    submitted = "submitted"
    postponed = "postponed"
    rejected = "rejected"
    dispositioned = "dispositioned"
    in_progress = "in_progress"
    answered = "answered"
    completed = "completed"
    archived = "archived"


class RejectReason(StrEnum):
    too_general = "too_general"
    not_relevant = "not_relevant"
    out_of_scope = "out_of_scope"
    duplicate = "duplicate"
    withdrawn = "withdrawn"


class Channel(StrEnum):
    web = "web"
    sms = "sms"
    twitter = "twitter"
    mobile = "mobile"
    email = "email"
    phone = "phone"
    counter = "counter"
    complaint_box = "complaint_box"
    wbs = "wbs"
    api = "api"


class NodeKind(StrEnum):
    instansi = "instansi"
    unit_utama = "unit_utama"
    kanwil = "kanwil"
    upt = "upt"
    inspektorat = "inspektorat"
    unit = "unit"


class Timezone(StrEnum):
    WIB = "Asia/Jakarta"
    WITA = "Asia/Makassar"
    WIT = "Asia/Jayapura"


class Role(StrEnum):
    admin = "admin"
    coordinator = "coordinator"
    agency = "agency"
    channel = "channel"
    """A channel client (an SMS or email gateway, an Open311 app): submits for reporters, reads what the public may."""


class ScanStatus(StrEnum):
    """Where a file stands with the virus scanner. Only `clean` and `unscanned` files are ever served."""

    clean = "clean"
    infected = "infected"
    unscanned = "unscanned"
    """No scanner is configured (the embedded default): served, and every view says so."""


class UploaderKind(StrEnum):
    reporter = "reporter"
    agency = "agency"
    operator = "operator"


class RouteKind(StrEnum):
    reporter_choice = "reporter_choice"
    rule = "rule"
    coordinator = "coordinator"
    forward = "forward"
    delegation = "delegation"


class ClockKind(StrEnum):
    """The SLA clocks a case runs (ARCHITECTURE.md "Deadlines")."""

    verification = "verification"
    first_response = "first_response"
    resolution = "resolution"
    reporter_response = "reporter_response"


class ClockState(StrEnum):
    running = "running"
    met = "met"
    breached = "breached"


class EscalationTarget(StrEnum):
    """Who a rung of the escalation ladder goes to, by level: 1 liaison, 2 parent, 3 coordinators, 4 oversight."""

    liaison = "liaison"
    parent = "parent"
    coordinators = "coordinators"
    oversight = "oversight"


ESCALATION_LADDER: tuple[EscalationTarget, ...] = tuple(EscalationTarget)
"""Level n (1-based) of the ladder is ESCALATION_LADDER[n - 1]."""


NodeCode = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$", strip_whitespace=True)]
"""A node code is also a NATS subject token, so it holds no dots, spaces or wildcards."""

TRACKING_ID_PATTERN = r"^[A-Z0-9-]{6,40}$"
TrackingId = Annotated[str, StringConstraints(pattern=TRACKING_ID_PATTERN)]
RegionCode = Annotated[str, StringConstraints(pattern=r"^[0-9]{2}([0-9]{2}){0,4}$")]
"""Kemendagri codes without dots: 2 digits a province, 4 a regency or city, 6 a district, 10 a village."""

ANONYMOUS_NAME = "Anonim"

STATUS_LABELS: dict[Status, str] = {
    Status.submitted: "Belum Terverifikasi",
    Status.postponed: "Tunda",
    Status.rejected: "Ditolak",
    Status.dispositioned: "Terverifikasi, Belum Ditindaklanjuti",
    Status.in_progress: "Proses",
    Status.answered: "Ditindaklanjuti",
    Status.completed: "Selesai",
    Status.archived: "Arsip",
}
"""The LAPOR! term for each hub status, as reporters and agencies know them."""
