"""Hostile values: what the fuzzer mixes into every string it generates, and the bodies no schema would produce."""

from __future__ import annotations

import json

from shared.http.limits import DEFAULT_MAX_BODY_BYTES

NUL = ["\u0000", "Siti\u0000Aminah"]
"""NUL, alone and inside text: PostgreSQL text cannot hold it."""
UNICODE = [
    "\u202eTNEMUCOD\u202c",  # right-to-left override
    "\u0645\u0631\u062d\u0628\u0627 \u05e9\u05dc\u05d5\u05dd",  # Arabic and Hebrew (RTL scripts)
    "\U0001f600\U0001f4a9\U0001f468\u200d\U0001f469\u200d\U0001f467",  # emoji, astral plane, ZWJ sequence
    "e\u0301\u0301\u0301\u0301\u0301",  # stacked combining marks
    "\u200b\ufeff\u2060",  # zero-width characters only
    "\x1b[31mred\x1b[0m\r\n\t\x7f",  # control characters
    "\uffff\ufffe",  # noncharacters
]
SQL = [
    "' OR 1=1 --",
    "'; DROP TABLE complaints; --",
    '" OR ""="',
    ";",
    "%",
    "_",
    "%_%",
    "\\",
    "\\'",
    "\\\\%\\_",
    "1; SELECT pg_sleep(5)",
]
TRAVERSAL = [
    "../../etc/passwd",
    "..%2F..%2Fetc%2Fpasswd",
    "%2e%2e%2f%2e%2e%2fetc%2fpasswd",
    "..%252F..%252Fetc%252Fpasswd",
    "..\\..\\windows\\win.ini",
    "/etc/passwd",
    "....//....//etc/passwd",
]
LONG = [
    "A" * 10_000,
    "\U0001f600" * 1_000,
    "%" * 2_000,
]
"""Long, but short enough that a URL holding a few of them (percent-encoded: 12 bytes an emoji) stays under the
HTTP server's 80 KB limit on a request line; the explicit cases go past it."""
OTHER = ["", " ", "null", "true", "0", "-1", "1e309", "NaN", "{}", "[]", "${jndi:ldap://127.0.0.1/a}", "{{7*7}}"]

LONE_SURROGATES = ["\ud800", "\udfff", "x\udbffy"]
"""Valid in JSON text as \\u escapes, but not encodable as UTF-8: sent in explicit cases, since the fuzzer's own
machinery (Rust JSON Schema validation) cannot hold them."""

HOSTILE_STRINGS: list[str] = NUL + UNICODE + SQL + TRAVERSAL + LONG + OTHER
"""Mixed into generated strings (parameters and body fields): schema-valid ones in positive cases, the rest in
negative ones, so each reaches the handlers that take it."""

HOSTILE_IDS: list[str] = [
    *SQL[:2],
    "%",
    "_",
    "\\",
    *TRAVERSAL,
    "",
    "/",
    ".",
    "..",
    "\U0001f600",
    "\u202eDI",
    "A" * 5_000,
]
"""Put into path ids verbatim (percent-encoded once by the client, so '%2F' arrives as '%252F' and '/' as '%2F')."""
HOSTILE_QUERY_VALUES: list[str] = [
    SQL[0],
    "%",
    "_",
    "\\",
    TRAVERSAL[0],
    TRAVERSAL[1],
    "\U0001f600",
    "\u202e",
    "A" * 10_000,
]
"""Put into every query parameter, one at a time (the free-text search gets all of SQL in its own test)."""
HOSTILE_FIELD_VALUES: list[str] = [*SQL, *TRAVERSAL, *LONG, "".join(UNICODE), *NUL, *OTHER[:4]]
"""Put into every string field of a valid body at once: each SQL and traversal string, the long ones, every
awkward character of UNICODE in one string, and NUL."""

NESTING = 10_000


def deeply_nested(levels: int = NESTING) -> bytes:
    """A JSON document `levels` arrays deep; small (2 bytes a level) and well under any body limit."""
    return b"[" * levels + b"]" * levels


def deeply_nested_object(levels: int = NESTING) -> bytes:
    """`{"a":{"a":...}}`, `levels` objects deep."""
    return b'{"a":' * levels + b"{}" + b"}" * levels


def huge_json(size: int = 4 * DEFAULT_MAX_BODY_BYTES) -> bytes:
    """A valid JSON object of about `size` bytes: one long string field."""
    return json.dumps({"content": "x" * size}).encode()


def wide_json(keys: int = 15_000) -> bytes:
    """A flat object with many keys, under the body limit."""
    return json.dumps({f"k{i}": i for i in range(keys)}).encode()
