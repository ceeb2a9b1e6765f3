"""The SLA engine's Prometheus metrics (served at routing_svc's /metrics)."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

SLA_FIRED = Counter(
    "simpul_sla_fired_total",
    "SLA warnings and escalation rungs committed by the sweep (a breach fires its clock's first rung)",
    ["event", "clock", "level"],
)
SWEEP_SECONDS = Histogram(
    "simpul_sla_sweep_seconds",
    "How long one sweep transaction took",
    buckets=(0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
