"""Workers and queues as the monitor shows them (the live side of `doctor`)."""
