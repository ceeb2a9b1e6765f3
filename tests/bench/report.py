"""docs/performance.md (the table, the command, the machine), its JSON, and the chart of latency against rate."""

from __future__ import annotations

import json
import os
import platform
from pathlib import Path
from typing import Any

TARGETS = {
    "durable_ratio": 0.5,
    "e2e_ratio": 0.35,
    "e2e_half_p99_ms": 250.0,
    "routing_ratio": 2.0,
    "scale_seconds": 1.0,
    "upload_ratio": 0.5,
    "upload_rss_mib": 64.0,
}
MIB = 1024 * 1024


def machine() -> dict[str, Any]:
    cpu = "unknown"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return {
        "cpus": os.cpu_count(),
        "cpu": cpu,
        "python": platform.python_version(),
        "system": f"{platform.system()} {platform.release()}",
    }


def _fmt(value: float | None, digits: int = 0) -> str:
    if value is None or value != value:
        return "–"
    return f"{value:,.{digits}f}"


def _ratio(value: float) -> str:
    """A ratio to the baseline, with enough digits that a small one does not read as zero."""
    return f"{value:.2f}×" if value >= 0.1 else f"{value:.3f}×"


def _met(ok: bool | None) -> str:
    return "–" if ok is None else ("yes" if ok else "**no**")


def rows(results: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    return _intake_rows(results) + _upload_rows(results) + _scale_rows(results)


def _intake_rows(results: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    if "baseline" not in results:  # a report of `--only upload` alone
        return []
    base = results["baseline"]["ok_rate"]
    durable = results["durable_intake"]
    e2e = results["end_to_end"]
    out = [
        ("Baseline: bare endpoint, same body (req/s)", _fmt(base), "—", "—"),
        (
            "Durable intake through the one base URL (accepted/s; p50 / p99 ms)",
            f"{_fmt(durable['ok_rate'])} ({_ratio(durable['ok_rate'] / base)}); "
            f"{_fmt(durable['p50_ms'], 1)} / {_fmt(durable['p99_ms'], 1)}",
            f"≥ {TARGETS['durable_ratio']}× baseline",
            _met(durable["ok_rate"] >= TARGETS["durable_ratio"] * base),
        ),
    ]
    sustained = e2e.get("sustained_rate")
    out.append(
        (
            f"End to end: highest rate sustained for {e2e['seconds']:.0f} s with the lag bounded (/s)",
            f"{_fmt(sustained)} ({_ratio((sustained or 0) / base)})",
            f"≥ {TARGETS['e2e_ratio']}× baseline",
            _met(sustained is not None and sustained >= TARGETS["e2e_ratio"] * base),
        )
    )
    half = e2e.get("half_rate_run")
    if half:
        out.append(
            (
                f"End to end at half that rate ({_fmt(half['offered'])}/s): POST to inbox, p50 / p99 ms",
                f"{_fmt(half['p50_ms'])} / {_fmt(half['p99_ms'])}",
                f"p99 ≤ {TARGETS['e2e_half_p99_ms']:.0f} ms",
                _met(half["p99_ms"] <= TARGETS["e2e_half_p99_ms"]),
            )
        )
    return out


def _upload_rows(results: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    upload = results.get("upload")
    if not upload:
        return []
    bare, hub, memory = upload["bare"], upload["hub"], upload["memory"]
    size, n = _mib(upload["size"]), upload["concurrency"]
    intake, gateway = memory["delta_mib"]["intake"], memory["delta_mib"]["gateway"]
    return [
        (
            f"Upload baseline: bare endpoint streaming a {size} file to disk, {n} at a time (uploads/s; MiB/s)",
            f"{_fmt(bare['per_s'], 1)}; {_fmt(bare['mib_per_s'])}",
            "—",
            "—",
        ),
        (
            f"Upload of a {size} file through the one base URL, {n} at a time (uploads/s; MiB/s)",
            f"{_fmt(hub['per_s'], 1)}; {_fmt(hub['mib_per_s'])} ({_ratio(upload['ratio'])})",
            f"≥ {TARGETS['upload_ratio']}× the bare endpoint",
            _met(upload["ratio"] >= TARGETS["upload_ratio"]),
        ),
        (
            f"intake's peak resident memory above idle, {memory['uploads']} concurrent {_mib(memory['size'])}"
            " uploads (MiB)",
            _fmt(intake, 1),
            f"< {TARGETS['upload_rss_mib']:.0f} MiB",
            _met(intake < TARGETS["upload_rss_mib"]),
        ),
        ("The gateway's, the same uploads (MiB)", _fmt(gateway, 1), "—", "—"),
    ]


def _mib(size: int) -> str:
    return f"{size / MIB:g} MiB"


def _scale_rows(results: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    out: list[tuple[str, str, str, str]] = []
    scale = results.get("scale") or {}
    routing = scale.get("routing")
    if routing:
        small, national = routing["small"], routing["national"]
        out.append(
            (
                f"Routing one complaint, p50 / p99 ms: {small['nodes']} nodes vs {national['nodes']:,} nodes and "
                f"{national['rules']:,} rules ({routing.get('database', '?')})",
                f"{_fmt(small['p50_ms'], 2)} / {_fmt(small['p99_ms'], 2)} vs "
                f"{_fmt(national['p50_ms'], 2)} / {_fmt(national['p99_ms'], 2)} ({routing['ratio_p50']:.2f}×)",
                f"≤ {TARGETS['routing_ratio']}×",
                _met(routing["ratio_p50"] <= TARGETS["routing_ratio"]),
            )
        )
    sweep = scale.get("sweep") or {}
    if "seconds" in sweep:
        out.append(
            (
                f"Due-clock sweep, {sweep['open_cases']:,} open cases, {sweep.get('due', '?')} due (s)",
                _fmt(sweep["seconds"], 3),
                f"≤ {TARGETS['scale_seconds']:.0f} s",
                _met(sweep["seconds"] <= TARGETS["scale_seconds"]),
            )
        )
    stats = scale.get("stats") or {}
    for name, seconds in (stats.get("queries") or {}).items():
        out.append(
            (
                f"Statistics `{name}`, {stats['open_cases']:,} open cases (s)",
                _fmt(seconds, 3),
                f"≤ {TARGETS['scale_seconds']:.0f} s",
                _met(seconds <= TARGETS["scale_seconds"]),
            )
        )
    for part in ("sweep", "stats"):
        skipped = (scale.get(part) or {}).get("skipped")
        if skipped:
            out.append((f"Scale: {part}", f"skipped ({skipped})", "—", "—"))
    return out


def markdown(results: dict[str, Any], command: str) -> str:
    m = results["machine"]
    measured = (
        f"Measured by `{command}` on {results['finished_at']}: {m['cpus']} CPUs ({m['cpu']}), Python {m['python']},"
        f" {m['system']}."
    )
    whole = "end_to_end" in results
    lines = [
        "# Performance",
        "",
        measured + _setting(results) if whole else measured + " The uploads alone (`--only upload`).",
        "",
        "| measure | figure | target | met |",
        "|---|---|---|---|",
        *[f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows(results)],
        "",
        *(_end_to_end(results) if whole else []),
        *_limit(results),
        *_uploads(results),
        "How each figure is taken: `tests/bench/` (the baseline app, the wrk runner, the end-to-end measurement from"
        " the services' own records, the CPU breakdown, the uploads, the scale benchmarks). The raw figures are in"
        " `performance.json`. The CPU breakdown alone: `python -m tests.bench.cpu` (`--intake-only`, `--backlog`);"
        " the uploads alone: `python -m tests.bench --only upload`.",
        "",
    ]
    return "\n".join(lines)


def _setting(results: dict[str, Any]) -> str:
    return (
        f" Load from wrk (a separate process, {results['connections']} connections) for the baseline and"
        " durable intake; every service a"
        " separate process of one `simpul up` on its embedded default (nats-server from the wheel, SQLite, uvloop;"
        " routing, agency and notify at its default `--background-nice 10`, intake and the gateway not); the load"
        " generator shares the machine. The baseline is served as intake is: one uvicorn worker, uvloop, httptools."
        " Durable intake and the end-to-end runs each have a hub of their own."
    )


def _end_to_end(results: dict[str, Any]) -> list[str]:
    return [
        "![latency against offered rate](performance.png)",
        "",
        "End to end, each offered rate (an open-loop driver, tests/bench/paced.py: the n-th complaint is sent at"
        " n / rate, whatever the answers so far; a rate is sustained when every complaint reaches"
        " its inbox, at least 90% of the offered rate is accepted, and the p99 stays under"
        f" {results['lag_bound_ms']:.0f} ms):",
        "",
        "| offered /s | accepted /s | in their inbox | p50 ms | p99 ms | max ms | sustained |",
        "|---|---|---|---|---|---|---|",
        *[
            f"| {_fmt(r['offered'])} | {_fmt(r['achieved'])} | {r['arrived']}/{r['complaints']} | {_fmt(r['p50_ms'])}"
            f" | {_fmt(r['p99_ms'])} | {_fmt(r['max_ms'])} | {'yes' if r['sustained'] else 'no'} |"
            for r in results["end_to_end"]["runs"]
        ],
        "",
    ]


def _uploads(results: dict[str, Any]) -> list[str]:
    """How the upload figures were taken, where the CPU goes, and the memory of each run."""
    upload = results.get("upload")
    if not upload:
        return []
    bare, hub, memory = upload["bare"], upload["hub"], upload["memory"]
    size, n = _mib(upload["size"]), upload["concurrency"]
    cpu = upload["cpu_ms_per_upload"]
    cold, warm = memory["cold"], memory["warm"]
    return [
        "## Uploads",
        "",
        f"Measured by `{upload['command']}` on {upload['measured_at']}, on"
        f" {'the CPU breakdown’s hub once it was quiet' if upload.get('shared_hub') else 'a hub of their own'}."
        f" A {size} file (`%PDF-1.4` and"
        " random bytes, so that nothing compresses it) as the multipart field `file`, from"
        f" {n} clients that each send the next upload as soon as the last is answered (httpx on uvloop, a separate"
        " process, tests/bench/upload_load.py), "
        + (
            f"for {upload['seconds']:.0f} s after a warm-up."
            if upload.get("seconds")
            else f"{upload.get('smoke_uploads')} uploads each (a smoke run: no warm-up)."
        ),
        "",
        f"- **The bare endpoint:** {bare['method']}. {bare['uploads']:,} uploads, p50 {_fmt(bare['p50_ms'])} ms,"
        f" p99 {_fmt(bare['p99_ms'])} ms.",
        "- **Through the one base URL:** `POST /api/v1/complaints/<tracking_id>/attachments` with the receipt,"
        f" to {hub['cases']:,} cases submitted for the purpose, at most {hub['per_case']} files each (intake's default"
        f" limits, not raised: 10 files per uploader and 50 MiB per case); the client is on the machine, which intake's"
        f" rate limit exempts by default. {hub['uploads']:,} uploads, p50 {_fmt(hub['p50_ms'])} ms,"
        f" p99 {_fmt(hub['p99_ms'])} ms.",
        "",
        "CPU time per upload in each process of the hub (user and system, every thread, from /proc; what the"
        " uploads' events cost downstream counts where it was spent during the run):",
        "",
        "| process | ms per upload |",
        "|---|---|",
        *[f"| {name} | {ms:.2f} |" for name, ms in cpu.items()],
        f"| total, the hub | {sum(cpu.values()):.2f} |",
        f"| the load generator | {upload['load_cpu_ms_per_upload']:.2f} |",
        "",
        f"The bare endpoint took {bare['cpu_ms_per_upload']['server']:.2f} ms of CPU per upload, and its load generator"
        f" {bare['cpu_ms_per_upload']['load']:.2f} ms. Each is one process: on a CPU of its own, intake could take at"
        f" most {_fmt(1000 / max(cpu['intake'], 1e-9), 1)} uploads a second, the bare endpoint"
        f" {_fmt(1000 / max(bare['cpu_ms_per_upload']['server'], 1e-9), 1)}"
        f" ({_ratio(bare['cpu_ms_per_upload']['server'] / max(cpu['intake'], 1e-9))}).",
        "",
        f"Resident memory (MiB) around {memory['uploads']} uploads of {_mib(memory['size'])} at once, each to a case"
        " of its own: the idle figure is VmRSS just before, the peak VmHWM (reset just before, through"
        " /proc/PID/clear_refs) or, where that cannot be reset, the largest VmRSS sampled every 2 ms. First on the"
        " hub before it has taken any upload, then again after the throughput runs; the target is checked against"
        " the larger rise.",
        "",
        "| process | idle, first | peak, first | rise, first | idle, after | peak, after | rise, after |",
        "|---|---|---|---|---|---|---|",
        *[
            f"| {name} | {cold[name]['idle_mib']:.1f} | {cold[name]['peak_mib']:.1f} | {cold[name]['delta_mib']:.1f}"
            f" | {warm[name]['idle_mib']:.1f} | {warm[name]['peak_mib']:.1f} | {warm[name]['delta_mib']:.1f} |"
            for name in cold
        ],
        "",
    ]


def _limit(results: dict[str, Any]) -> list[str]:
    """Where the limit is: CPU per complaint in each process, and the ceilings those costs set on this machine."""
    cpu = results.get("cpu")
    if not cpu:
        return []
    base = results["baseline"]["ok_rate"]
    accepting, backlog = cpu["accepting"], cpu["backlog"]
    names = list(backlog["ms"])
    return [
        "## Where the limit is",
        "",
        "CPU time per complaint in each process of a third hub (user and system, every thread, from /proc):",
        "",
        "| process | accepting alone (ms) | a backlog drained in full batches (ms) |",
        "|---|---|---|",
        *[f"| {n} | {accepting['ms'][n]:.2f} | {backlog['ms'][n]:.2f} |" for n in names],
        f"| total | {accepting['total_ms']:.2f} | {backlog['total_ms']:.2f} |",
        "",
        f"- **Accepting alone:** {accepting['complaints']:,} complaints through the one base URL, wrk flat out, with"
        " routing, agency and notify paused. intake is one process, so it can accept at most"
        f" {_fmt(cpu['intake_ceiling_per_s'])} a second (1,000 ms / {accepting['ms']['intake']:.2f} ms) on a CPU of its"
        " own, before the gateway, the load generator and the rest of the hub take their share. 0.5× the baseline is"
        f" {_fmt(0.5 * base)} a second.",
        f"- **A backlog:** {backlog['complaints']:,} complaints accepted with the downstream services paused, then let"
        f" go at once. They reached the agency inboxes at {_fmt(backlog['filed_per_s'])} a second, every consumer"
        f" handling full batches, the pipeline's cheapest mode. At {backlog['total_ms']:.1f} ms a complaint,"
        f" {cpu['cpus']} CPUs doing nothing else could file at most {_fmt(cpu['pipeline_ceiling_per_s'])} a second,"
        f" with no bound on the lag. 0.35× the baseline is {_fmt(0.35 * base)} a second.",
        "",
    ]


def chart(results: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    runs = sorted(results["end_to_end"]["runs"], key=lambda r: r["offered"])
    fig, ax = plt.subplots(figsize=(7, 4.2), dpi=110)
    ax.plot([r["offered"] for r in runs], [r["p50_ms"] for r in runs], marker="o", label="p50")
    ax.plot([r["offered"] for r in runs], [r["p99_ms"] for r in runs], marker="s", label="p99")
    ax.axhline(TARGETS["e2e_half_p99_ms"], color="grey", linestyle=":", label="p99 target at half rate")
    ax.set_xlabel("offered rate (submissions/s)")
    ax.set_ylabel("POST to agency inbox (ms)")
    ax.set_yscale("log")
    ax.set_title("Simpul end to end: latency against offered rate")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def write(results: dict[str, Any], out_dir: Path, command: str) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "performance.json").write_text(json.dumps(results, indent=2, default=str) + "\n")
    if "end_to_end" in results:
        chart(results, out_dir / "performance.png")
    (out_dir / "performance.md").write_text(markdown(results, command))
