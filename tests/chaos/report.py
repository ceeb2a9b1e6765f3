"""Writes docs/reliability.md from the chaos suite's results (`make chaos` runs it after the suite).

python -m tests.chaos.report RESULTS.jsonl docs/reliability.md --command "make chaos ..." --seconds N
"""

from __future__ import annotations

import argparse
import json
import os
import platform
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tests.chaos.faults import FAULTS, NATS_DOWN_S, POSTGRES_DOWN_S
from tests.chaos.hubs import HUB_ENV

ORDER = {f.name: i for i, f in enumerate(FAULTS)}


def machine() -> str:
    cpu = "unknown CPU"
    try:
        cpu = next(
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        )
    except (OSError, StopIteration):
        pass
    memory = ""
    try:
        kib = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f", {kib / 1024 / 1024:.0f} GiB of memory"
    except (OSError, ValueError, IndexError):
        pass
    return (
        f"{os.cpu_count()} cores ({cpu}){memory}; {platform.system()} {platform.release()}; "
        f"Python {platform.python_version()}"
    )


def render(results: list[dict[str, Any]], command: str, seconds: float | None) -> str:
    results = sorted(results, key=lambda r: (r["backend"] != "sqlite", ORDER.get(r["fault"], 99)))
    lines = [
        "# Reliability: what the chaos suite measured",
        "",
        "Each fault below was injected into a real hub (`simpul up`: nats-server, the four services, the gateway)"
        " while a burst of submissions ran through the gateway. The client sends each submission with its own"
        " `Idempotency-Key` and retries, with the same key, whatever leaves the outcome unknown (502, 503, 504, a"
        " lost connection). After the fault the suite waits until every accepted complaint has reached the end of"
        " its road, then counts, per accepted tracking id: its dispositions in routing's history, its places in the"
        " agency's inbox, its messages in notify's mail folder; and per submission, the complaints it made.",
        "",
        "- **lost**: an accepted complaint missing a disposition, its inbox entry or its message;",
        "- **duplicated**: more than one of any of them, or two complaints from one submission;",
        "- **time to recover**: from the fault's injection to the moment every accepted complaint had its"
        " disposition, inbox entry and message (it includes the fault's own downtime);",
        "- **retries**: requests the client had to send again (the answers it got are in the notes).",
        "",
        "| fault | database | sent | accepted | lost | duplicated | time to recover | retries |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        recovered = f"{r['recovered_s']:.1f} s" if r["recovered_s"] is not None else "not recovered"
        lines.append(
            f"| {r['label']} | {'SQLite' if r['backend'] == 'sqlite' else 'PostgreSQL'} | {r['sent']} |"
            f" {r['accepted']} | {len(r['lost'])} | {len(r['duplicated'])} | {recovered} | {r['retried']} |"
        )
    lines += [
        "",
        f"Made by `{command}`"
        + (f" in {seconds / 60:.1f} minutes" if seconds else "")
        + f", on {datetime.now(UTC):%Y-%m-%d}.",
        "",
        f"Machine: {machine()}.",
        "",
        "## How the faults are made",
        "",
        "- **SIGKILL**: the service's process, by its PID, a third of the way into the burst; `simpul up` starts it"
        " again. *All four at once* kills them in the same instant.",
        "- **SIGTERM each service in turn**: each must finish what it holds and exit 0 (the supervisor's log is"
        " read for the exit code).",
        f"- **nats-server stopped**: SIGTERM to nats-server, then its port is held for {NATS_DOWN_S:g} s so that the"
        " supervisor's restarts fail (clients are hung up on, as by a host with no broker); then the supervisor"
        " brings the same server back on its store. Meanwhile every service's `/readyz` must say NATS is down, and"
        " intake keeps accepting into its outbox.",
        "- **relay killed halfway**: nats-server is stopped as above while intake accepts four fifths of the burst"
        " into its outbox; when it is back, intake is SIGKILLed once its relay has published half of that backlog"
        " (read from intake's outbox table). The restarted relay publishes the rest again; JetStream drops what it"
        " already had by `Nats-Msg-Id`.",
        f"- **PostgreSQL stopped**: the hub's PostgreSQL, a private server the suite made for itself (never the"
        f" machine's), is stopped (fast shutdown, by its PID) for {POSTGRES_DOWN_S:g} s and started again. Meanwhile"
        " every service's `/readyz` must say the database is down, and every request is answered 503 with a JSON"
        " body (the client retries those; a 500 fails the run).",
        "",
        "The hub runs with its defaults except: "
        + ", ".join(f"`{k}={v}`" for k, v in HUB_ENV.items())
        + " (see tests/chaos/hubs.py for why).",
        "",
        "## Notes per fault",
        "",
    ]
    for r in results:
        answers = ", ".join(f"{k}: {v}" for k, v in sorted(r["answers"].items()))
        notes = {k: v for k, v in r["notes"].items() if k not in ("stopped", "readyz while down")}
        lines.append(
            f"- {r['label']} ({r['backend']}): answers {answers}; retries that the key replayed: {r['replayed']}"
            + (f"; {json.dumps(notes)}" if notes else "")
        )
        for finding in (r["findings"] + r["lost"] + r["duplicated"])[:5]:
            lines.append(f"  - {finding}")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("results", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--command", required=True)
    parser.add_argument("--seconds", type=float)
    args = parser.parse_args()
    results = [json.loads(line) for line in args.results.read_text().splitlines() if line.strip()]
    args.out.write_text(render(results, args.command, args.seconds))
    print(f"wrote {args.out} ({len(results)} faults)")


if __name__ == "__main__":
    main()
