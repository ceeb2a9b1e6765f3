"""`python -m services.gateway_serve`: the gateway alone, behind a reverse proxy that routes the API itself.

The proxy sends each /api/v1/... prefix straight to its service and only /docs, /openapi.json, /healthz and /readyz
here: the merged docs of the four services, and the readiness of all four. Configured from the environment:
SIMPUL_GATEWAY_HOST [127.0.0.1], SIMPUL_GATEWAY_PORT [8000], and SIMPUL_GATEWAY_<SERVICE>_URL for each service
[http://<service>:8000, its name on the compose network], and each service's body limits as the service reads them
(<service prefix>MAX_BODY_BYTES, 256 KiB by default; <service prefix>MAX_UPLOAD_BODY_BYTES for a file upload, by
default <service prefix>ATTACHMENT_MAX_BYTES or 10 MiB, plus 64 KiB). With SIMPUL_GATEWAY_WEB_URL (the pages,
`python -m services.web`), every path that is neither the API's nor the gateway's own goes to the pages; without
it, such a path answers 404.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

import uvicorn

from services.gateway import Upstream, create_gateway, service_body_limit, service_upload_limit
from services.gateway_http import GatewayHttpProtocol
from services.registry import SERVICES
from shared.logging import configure_logging
from shared.service_main import serve

PREFIX = "SIMPUL_GATEWAY_"


def upstreams_from_env(environ: Mapping[str, str]) -> list[Upstream]:
    return [
        Upstream(
            s.name,
            s.api_prefixes,
            environ.get(f"{PREFIX}{s.name.upper()}_URL", f"http://{s.name}:8000"),
            service_body_limit(s.env_prefix, environ),
            service_upload_limit(s.env_prefix, environ),
        )
        for s in SERVICES
    ]


def main() -> None:
    configure_logging("gateway", os.environ.get(f"{PREFIX}LOG_LEVEL", "INFO"), True)
    config = uvicorn.Config(
        create_gateway(upstreams_from_env(os.environ), web=os.environ.get(f"{PREFIX}WEB_URL") or None),
        host=os.environ.get(f"{PREFIX}HOST", "127.0.0.1"),
        port=int(os.environ.get(f"{PREFIX}PORT", "8000")),
        loop="uvloop",
        http=GatewayHttpProtocol,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=10,
    )
    serve(config)


if __name__ == "__main__":
    main()
