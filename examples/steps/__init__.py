"""Step functions of the example workflows (filled in by the examples module)."""
