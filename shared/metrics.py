"""Prometheus metrics every service exposes at /metrics."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

HTTP_REQUESTS = Counter(
    "simpul_http_requests_total", "HTTP requests answered", ["service", "method", "route", "status"]
)
HTTP_LATENCY = Histogram(
    "simpul_http_request_duration_seconds",
    "HTTP request latency",
    ["service", "route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
OUTBOX_BACKLOG = Gauge("simpul_outbox_backlog", "Events written but not yet published", ["service"])
EVENTS_PUBLISHED = Counter("simpul_events_published_total", "Events the relay published", ["service"])
EVENTS_CONSUMED = Counter(
    "simpul_events_consumed_total", "Events a durable consumer handled", ["service", "durable", "outcome"]
)
REDELIVERIES = Counter("simpul_redeliveries_total", "Messages received more than once", ["service", "durable"])
DEAD_LETTERS = Counter("simpul_dead_letters_total", "Messages sent to the dead-letter stream", ["service", "durable"])
EVENTS_FORGED = Counter(
    "simpul_events_forged_total",
    "Events refused (and dead-lettered) because their subject, type or source disagree with the topology",
    ["service", "durable"],
)
CONSUMER_PENDING = Gauge(
    "simpul_consumer_pending", "A durable's lag: messages on its stream not yet delivered to it", ["service", "durable"]
)
CONSUMER_ACK_PENDING = Gauge(
    "simpul_consumer_ack_pending", "Messages delivered to a durable and not yet acknowledged", ["service", "durable"]
)
