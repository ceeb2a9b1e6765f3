"""The citizens' portal: server-rendered pages that report and track a case, as a client of the public API."""
