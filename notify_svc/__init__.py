"""notify_svc: messages to reporters (email), their templates (id, en), the delivery log and retries."""
