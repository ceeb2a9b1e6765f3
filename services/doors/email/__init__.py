"""The email door: mail in by SMTP/LMTP or from an IMAP mailbox, out as complaints and case messages through the
public API (see docs/channels.md, "Email")."""
