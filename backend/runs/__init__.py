"""Runs: the operator's view of jobs (seed 004's runner and audit): the run modes, the run
audit record and history, and the pre-flight report of a workflow."""
