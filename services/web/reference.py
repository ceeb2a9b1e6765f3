"""Categories and regions for the report form, from the API's reference lists, kept with their ETags."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from services.web.api import ApiDown, PortalApi

CATEGORIES = "/api/v1/reference/categories"
REGIONS = "/api/v1/reference/regions"
AGENCIES = "/api/v1/reference/agencies"
MAX_CONCURRENT_FETCHES = 8


@dataclass
class _Entry:
    etag: str | None
    items: list[dict[str, Any]] | None
    checked_at: float


@dataclass(frozen=True)
class Option:
    value: str
    label: str


@dataclass(frozen=True)
class Group:
    label: str
    options: list[Option] = field(default_factory=list)


class ReferenceData:
    """Asks the API again only after `ttl_s`, with If-None-Match; keeps what it had when the API does not answer.

    A list the API does not serve (404) is None: the form then offers no choice rather than a broken one."""

    def __init__(self, api: PortalApi, ttl_s: float, clock: Callable[[], float] = time.monotonic):
        self.api = api
        self.ttl_s = ttl_s
        self.clock = clock
        self._entries: dict[str, _Entry] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def items(self, path: str) -> list[dict[str, Any]] | None:
        entry = self._entries.get(path)
        if entry is not None and self.clock() - entry.checked_at < self.ttl_s:
            return entry.items
        async with self._locks.setdefault(path, asyncio.Lock()):
            entry = self._entries.get(path)
            if entry is not None and self.clock() - entry.checked_at < self.ttl_s:
                return entry.items
            return await self._refresh(path, entry)

    async def _refresh(self, path: str, entry: _Entry | None) -> list[dict[str, Any]] | None:
        try:
            response = await self.api.reference(path, entry.etag if entry else None)
        except ApiDown:
            return entry.items if entry else None
        now = self.clock()
        if response.status_code == 304 and entry is not None:
            entry.checked_at = now
            return entry.items
        if response.status_code == 200:
            try:
                items = [item for item in response.json()["items"] if isinstance(item, dict)]
            except (ValueError, KeyError, TypeError):
                return entry.items if entry else None
            self._entries[path] = _Entry(response.headers.get("etag"), items, now)
            return items
        if response.status_code == 404:
            self._entries[path] = _Entry(None, None, now)
            return None
        return entry.items if entry else None

    async def category_groups(self, language: str) -> list[Group] | None:
        """Categories under their top-level parent (one group each), the parent itself first."""
        items = await self.items(CATEGORIES)
        if not items:
            return None
        by_code = {str(c.get("code")): c for c in items}

        def top(code: str) -> str:
            seen = set()
            while (parent := by_code.get(code, {}).get("parent_code")) and parent in by_code and code not in seen:
                seen.add(code)
                code = str(parent)
            return code

        def name(c: dict[str, Any]) -> str:
            return str((c.get("name_en") if language == "en" else None) or c.get("name") or c.get("code"))

        groups: dict[str, Group] = {}
        for code, category in by_code.items():
            root = top(code)
            group = groups.setdefault(root, Group(name(by_code[root])))
            group.options.append(Option(code, name(category)))
        for root, group in groups.items():
            group.options.sort(key=lambda o: (o.value != root, o.label.lower()))
        return sorted(groups.values(), key=lambda g: g.label.lower())

    async def region_groups(self) -> list[Group] | None:
        """Each province, as a group: the province as a whole first, then its regencies and cities."""
        provinces = await self.items(REGIONS)
        if not provinces:
            return None
        gate = asyncio.Semaphore(MAX_CONCURRENT_FETCHES)

        async def children(code: str) -> list[dict[str, Any]]:
            async with gate:
                return await self.items(f"{REGIONS}?parent_code={code}") or []

        codes = [str(p.get("code")) for p in provinces]
        below = await asyncio.gather(*(children(code) for code in codes))
        groups = []
        for province, regencies in zip(provinces, below, strict=True):
            label = str(province.get("name") or province.get("code"))
            options = [Option(str(province.get("code")), label)]
            options += sorted(
                (Option(str(r.get("code")), str(r.get("name") or r.get("code"))) for r in regencies),
                key=lambda o: o.label.lower(),
            )
            groups.append(Group(label, options))
        return sorted(groups, key=lambda g: g.options[0].value)

    async def province_zones(self) -> dict[str, str]:
        """Province code to its zone (WIB, WITA, WIT), as far as the regions list names them."""
        provinces = await self.items(REGIONS) or []
        return {str(p.get("code")): str(p.get("timezone")) for p in provinces if p.get("timezone")}

    async def agency_name(self, code: str | None) -> str | None:
        """The directory's name for an agency node; None when the list does not name it."""
        if not code:
            return None
        return next(
            (str(a["name"]) for a in await self.items(AGENCIES) or [] if a.get("code") == code and a.get("name")), None
        )

    async def category_name(self, code: str | None, language: str) -> str | None:
        """A category's name in the language (Indonesian when it has no English one); None when not listed."""
        if not code:
            return None
        for category in await self.items(CATEGORIES) or []:
            if category.get("code") == code:
                return str((category.get("name_en") if language == "en" else None) or category.get("name") or code)
        return None

    async def region_name(self, code: str | None) -> str | None:
        """A province's or kabupaten/kota's name (a district or village code is named by its kabupaten/kota)."""
        if not code:
            return None
        province = code[:2]
        listed = await self.items(REGIONS) if len(code) == 2 else await self.items(f"{REGIONS}?parent_code={province}")
        named = {str(r.get("code")): str(r.get("name")) for r in listed or [] if r.get("name")}
        return named.get(code) or named.get(code[:4])
