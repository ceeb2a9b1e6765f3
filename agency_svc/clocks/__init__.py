"""Each case's SLA clocks as the hub publishes them, and which of them an agency key may see."""
