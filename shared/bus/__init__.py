"""NATS JetStream: the connection, the streams, durable pull consumers, dead letters."""

from shared.bus.consumer import ConsumerRunner, RetryLater, Subscription
from shared.bus.nats_bus import DLQ_STREAM, PRIVATE_STREAM, STREAM, Bus

__all__ = ["DLQ_STREAM", "PRIVATE_STREAM", "STREAM", "Bus", "ConsumerRunner", "RetryLater", "Subscription"]
