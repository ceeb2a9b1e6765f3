"""The case's timeline in plain words: each step told by its status, never by the hub's own notes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from services.web.i18n import N_
from services.web.words import STATUSES

SENT_TO_AGENCY = N_("Sent to %(agency)s")


@dataclass(frozen=True)
class Step:
    at: str
    status: str
    text: str
    """A catalog message, to be translated with `agency`."""
    agency: str | None = None


def steps(timeline: list[dict[str, Any]], agency: str | None) -> list[Step]:
    """The timeline's entries as the reporter reads them. The agency holding the case is named on the last step that
    sent it to one (an earlier step may have sent it elsewhere); a step that reads as the one before it is left out."""
    last_sent = max((i for i, item in enumerate(timeline) if item.get("status") == "dispositioned"), default=None)
    found: list[Step] = []
    for i, item in enumerate(timeline):
        status = str(item.get("status"))
        label = STATUSES[status][0] if status in STATUSES else str(item.get("status_label") or status)
        step = Step(str(item.get("at")), status, label)
        if i == last_sent and agency:
            step = Step(step.at, status, SENT_TO_AGENCY, agency)
        if found and (found[-1].text, found[-1].agency) == (step.text, step.agency):
            continue
        found.append(step)
    return found
