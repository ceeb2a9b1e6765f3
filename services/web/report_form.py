"""The report form: what the citizen typed, checked as far as the page can, and turned into the API's request."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from starlette.datastructures import FormData, UploadFile

from services.web.api import ApiProblem
from services.web.words import CLASSIFICATIONS, PHONE_NOT_ACCEPTED, REPORT_FIELD_ERRORS
from shared.clock import latest_today
from shared.http.inputs import EMAIL_MAX_LENGTH, is_email_address
from shared.phones import e164, is_phone_input, may_text

TEXT_FIELDS = (
    "classification",
    "category",
    "region_code",
    "title",
    "content",
    "incident_date",
    "reporter.name",
    "reporter.email",
    "reporter.phone",
)
CHECKBOXES = ("is_anonymous", "is_confidential")
FORM_TOKEN = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
_LIMITS = {
    "title": 200,
    "content": 20000,
    "reporter.name": 200,
    "reporter.email": EMAIL_MAX_LENGTH,
    "reporter.phone": 40,
}
_DAY_FIRST = re.compile(r"^(\d{1,2})[/.\- ](\d{1,2})[/.\- ](\d{4})$")


def new_form_token() -> str:
    return secrets.token_urlsafe(24)


def parse_date(text: str) -> date | None:
    """ISO (2026-03-27, as a date input sends it) or day first (27/3/2026, as people type it)."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        pass
    match = _DAY_FIRST.match(text)
    if match:
        try:
            return date(int(match[3]), int(match[2]), int(match[1]))
        except ValueError:
            return None
    return None


@dataclass
class ReportForm:
    values: dict[str, str] = field(default_factory=dict)
    checked: set[str] = field(default_factory=set)
    files: list[UploadFile] = field(default_factory=list)
    token: str = field(default_factory=new_form_token)
    errors: dict[str, str] = field(default_factory=dict)
    """Field (as the form names it) to the message shown beside it; "" for the summary alone."""

    @classmethod
    def read(cls, form: FormData) -> ReportForm:
        values = {name: str(form.get(name) or "").strip() for name in TEXT_FIELDS}
        checked = {name for name in CHECKBOXES if form.get(name) in ("true", "on", "1")}
        files = [f for f in form.getlist("attachments") if isinstance(f, UploadFile) and f.filename]
        token = str(form.get("form_token") or "")
        report = cls(values, checked, files, token if FORM_TOKEN.match(token) else new_form_token())
        if values["classification"] == "wbs":
            report.checked |= set(CHECKBOXES)
        report.check()
        return report

    def check(self) -> None:
        """What the page can tell without the API, by the API's own rules: the required fields, the lengths, the date
        (not after today anywhere in Indonesia), the email address and the phone number."""
        v = self.values
        if v["classification"] not in CLASSIFICATIONS:
            self.errors["classification"] = REPORT_FIELD_ERRORS["classification"]
        for name in ("title", "content"):
            if not v[name]:
                self.errors[name] = REPORT_FIELD_ERRORS[name]
        for name, limit in _LIMITS.items():
            if len(v[name]) > limit:
                self.errors[name] = REPORT_FIELD_ERRORS[name]
        if v["incident_date"]:
            day = parse_date(v["incident_date"])
            if day is None or day > latest_today():
                self.errors["incident_date"] = REPORT_FIELD_ERRORS["incident_date"]
            else:
                v["incident_date"] = day.isoformat()
        if v["reporter.email"] and not is_email_address(v["reporter.email"]):
            self.errors["reporter.email"] = REPORT_FIELD_ERRORS["reporter.email"]
        if v["reporter.phone"] and "reporter.phone" not in self.errors:
            self._check_phone(v["reporter.phone"])

    def _check_phone(self, phone: str) -> None:
        """A number that is no number; an Indonesian one that is not a mobile (another country's is the API's to
        judge, by the countries its settings name)."""
        number = e164(phone) if is_phone_input(phone) else None
        if number is None:
            self.errors["reporter.phone"] = REPORT_FIELD_ERRORS["reporter.phone"]
        elif number.startswith("+62") and not may_text(number, ()):
            self.errors["reporter.phone"] = PHONE_NOT_ACCEPTED

    def body(self, language: str) -> dict[str, Any]:
        """The API's submission: empty fields left out, the contact details only when some are given."""
        v = self.values
        body: dict[str, Any] = {
            "title": v["title"],
            "content": v["content"],
            "classification": v["classification"],
            "channel": "web",
            "language": language,
            "is_anonymous": "is_anonymous" in self.checked,
            "is_confidential": "is_confidential" in self.checked,
        }
        for name in ("category", "region_code", "incident_date"):
            if v[name]:
                body[name] = v[name]
        reporter = {name: v[f"reporter.{name}"] for name in ("name", "email", "phone") if v[f"reporter.{name}"]}
        if reporter:
            body["reporter"] = reporter
        return body

    def refuse(self, problem: ApiProblem) -> bool:
        """Puts a 422's fields beside their inputs; False when it names none the form has."""
        found = False
        for name, kind in problem.fields().items():
            if name in REPORT_FIELD_ERRORS:
                self.errors[name] = PHONE_NOT_ACCEPTED if kind == "phone_not_accepted" else REPORT_FIELD_ERRORS[name]
                found = True
            elif name == "reporter":
                self.errors["reporter.name"] = REPORT_FIELD_ERRORS["reporter.name"]
                found = True
        return found
