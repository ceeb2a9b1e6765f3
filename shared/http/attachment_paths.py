"""Which paths carry a file: the services and the gateway ask these, so they agree on where a body may be large
(uploads) and where an answer is streamed (downloads).

The paths are the decoded paths (ASGI `scope["path"]`), as every server in the chain sees them; a tracking id or an
attachment id is one path segment.
"""

from __future__ import annotations

import re

_UPLOAD = re.compile(r"/api/v1/(?:agency/)?complaints/[^/]+/attachments")
_DOWNLOAD = re.compile(r"/api/v1/(?:agency/|hub/)?complaints/[^/]+/attachments/[^/]+")


def is_upload_path(path: str) -> bool:
    """An attachment collection a file is POSTed to (multipart): the reporter's and the agency's."""
    return path.endswith("/attachments") and _UPLOAD.fullmatch(path) is not None


def is_download_path(path: str) -> bool:
    """One attachment, whose bytes a GET answers: the reporter's, the agency's and the hub's view."""
    return "/attachments/" in path and _DOWNLOAD.fullmatch(path) is not None
