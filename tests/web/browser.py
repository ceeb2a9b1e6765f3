"""A browser without a browser: httpx with cookies, reading forms the way a person's browser would send them."""

from __future__ import annotations

from typing import Any

import httpx
from bs4 import BeautifulSoup, Tag

# A 2x2 red PNG, made with Pillow.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000002000000020802000000fdd49a730000001649444154789c633c2127c7c0c0c0c4c0c0c0"
    "c0c000000d0401087d71ca660000000049454e44ae426082"
)


class Page:
    def __init__(self, response: httpx.Response):
        self.response = response
        self.status = response.status_code
        self.soup = BeautifulSoup(response.text, "html.parser")

    def one(self, selector: str) -> Tag:
        found = self.soup.select_one(selector)
        assert found is not None, f"no {selector} in {self.response.request.url}:\n{self.response.text[:3000]}"
        return found

    def has(self, selector: str) -> bool:
        return self.soup.select_one(selector) is not None

    def text(self, selector: str) -> str:
        return " ".join(self.one(selector).get_text(" ").split())

    def hidden(self, form_id: str) -> dict[str, str]:
        form = self.one(f"form#{form_id}")
        return {str(i["name"]): str(i.get("value", "")) for i in form.select("input[type=hidden]")}


class Browser:
    def __init__(self, base_url: str, headers: dict[str, str] | None = None):
        self.client = httpx.Client(base_url=base_url, timeout=60, headers=headers or {})

    def close(self) -> None:
        self.client.close()

    def get(self, path: str, **kwargs: Any) -> Page:
        return Page(self.client.get(path, **kwargs))

    def submit(
        self,
        page: Page,
        form_id: str,
        fields: dict[str, str],
        files: list[tuple[str, bytes]] | None = None,
        follow: bool = True,
    ) -> Page:
        """Posts the form as the page has it (its hidden fields), with `fields` filled in and `files` chosen."""
        form = page.one(f"form#{form_id}")
        data = {**page.hidden(form_id), **fields}
        multipart = form.get("enctype") == "multipart/form-data"
        sent = [("attachments", (name, content, "application/octet-stream")) for name, content in files or []]
        if multipart and not sent:
            sent = [("attachments", ("", b"", "application/octet-stream"))]  # an empty file input, as browsers send
        response = self.client.post(
            str(form["action"]), data=data, files=sent if multipart else None, follow_redirects=follow
        )
        return Page(response)
