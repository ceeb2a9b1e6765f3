"""The reporter's files: uploads with the receipt, and the case's files as the reporter may see them."""
