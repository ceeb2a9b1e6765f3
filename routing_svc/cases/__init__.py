"""Cases: the state machine, the hub's case views and the coordinators' decisions."""
