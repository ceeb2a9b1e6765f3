"""Officers and coordinators: who is told of an escalation and who gets a node's daily digest."""
