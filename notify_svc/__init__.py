"""notify_svc: messages to reporters (email, SMS), liaison officers and coordinators (escalations, the daily digest),
their templates (id, en), quiet hours, the delivery log and retries."""
