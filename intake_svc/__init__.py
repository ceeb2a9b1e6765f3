"""intake_svc: submissions from every channel, the reporter's sealed identity, receipts and the reporter's view."""
