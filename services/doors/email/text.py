"""Text out of mail: HTML made plain (safely), quoted replies cut off, lengths kept within the API's limits."""

from __future__ import annotations

import re

from bs4 import BeautifulSoup, Comment

from shared.reply_address import REPLY_ABOVE

_DROPPED_TAGS = ("script", "style", "head", "title", "noscript", "template", "iframe", "object", "embed", "svg")
_BLOCK_TAGS = (
    "p", "div", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "table", "ul", "ol", "hr",
    "section", "article", "header", "footer", "address",
)  # fmt: skip
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")
_SPACES = re.compile(r"[ \t\u00a0]+")
_BLANK_LINES = re.compile(r"\n{3,}")
# The line that introduces a quoted message: "On Mon, 1 Jan 2026, Siti <s@x> wrote:" (a client may wrap it over two
# lines), its Indonesian form "Pada ... menulis:", and Outlook's separators.
_QUOTE_HEADER = re.compile(
    r"^[ \t]*(?:(?:On|Pada)\s[^\n]{0,300}(?:\n[^\n]{0,300})?\s(?:wrote|menulis)\s*:[ \t]*$"
    r"|-{2,}\s*(?:Original Message|Pesan Asli|Forwarded message|Pesan yang diteruskan)\s*-{2,}"
    r"|_{10,}\s*\n\s*(?:From|Dari):)",
    re.IGNORECASE | re.MULTILINE,
)
_MARKER = re.compile(
    "|".join(r"\s+".join(map(re.escape, part.strip(" #").split())) for part in REPLY_ABOVE.split("/")), re.IGNORECASE
)
_SIGNATURE = re.compile(r"^--[ \t]*$")
# Outlook's header block of the quoted message: a From/Dari line with Sent/Dikirim and To/Kepada lines just after.
_HEADER_FROM = re.compile(r"^[ \t*>]*(?:From|Dari)[ \t*]*:", re.IGNORECASE)
_HEADER_SENT = re.compile(r"^[ \t*>]*(?:Sent|Dikirim|Terkirim|Date|Tanggal)[ \t*]*:", re.IGNORECASE)
_HEADER_TO = re.compile(r"^[ \t*>]*(?:To|Kepada)[ \t*]*:", re.IGNORECASE)
_HEADER_SPAN = 5


def clean(text: str) -> str:
    """Line ends made \\n, control and invisible formatting characters dropped, runs of spaces and blank lines
    shortened, each line and the whole trimmed."""
    text = _CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


def html_to_text(html: str) -> str:
    """The text a reader of the HTML sees. Parsed once: an entity becomes its character, never markup, and
    scripts, styles and comments are dropped unread."""
    soup = BeautifulSoup(html, "html.parser")
    for tag in soup.find_all(_DROPPED_TAGS):
        tag.decompose()
    for comment in soup.find_all(string=lambda s: isinstance(s, Comment)):
        comment.extract()
    for br in soup.find_all("br"):
        br.replace_with("\n")
    for tag in soup.find_all(_BLOCK_TAGS):
        tag.insert_before("\n")
        tag.insert_after("\n")
    return clean(soup.get_text())


def strip_quotes(text: str) -> str:
    """The new part of a reply: everything from the first of these on is cut: notify's "reply above this line"
    marker, the quoted message's header line ("On … wrote:", Outlook's header block or separator), a `-- `
    signature line; and "> " lines go."""
    found = _QUOTE_HEADER.search(text)
    if found:
        text = text[: found.start()]
    lines = text.split("\n")
    lines = lines[: _first_cut(lines)]
    kept = [line for line in lines if not line.lstrip().startswith(">")]
    return clean("\n".join(kept))


def _first_cut(lines: list[str]) -> int:
    """The index of the first line where the reply's own text ends (len(lines) when it does not)."""
    for n, line in enumerate(lines):
        if _MARKER.search(line) or _SIGNATURE.match(line):
            return n
        if _HEADER_FROM.match(line):
            following = lines[n + 1 : n + 1 + _HEADER_SPAN]
            if any(_HEADER_SENT.match(f) for f in following) and any(_HEADER_TO.match(f) for f in following):
                return n
    return len(lines)


def within(text: str, limit: int, marker: str = " …") -> str:
    """`text` cut to at most `limit` characters, the cut marked."""
    if len(text) <= limit:
        return text
    return text[: limit - len(marker)].rstrip() + marker
