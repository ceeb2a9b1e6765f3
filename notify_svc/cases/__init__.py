"""What notify keeps of each case: the reporter's timezone, the case's status and its running deadlines."""
