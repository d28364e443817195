"""The client commands of `jobmonitor`, one module per group; each has `register(app)`."""
