"""The SMS door: an SMS gateway POSTs each message it receives; intake files it as a complaint or a reply."""
