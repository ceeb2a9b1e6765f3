"""Files: attachments' checks on the way in, their sealed storage in JetStream Object Store, and how they are served."""
