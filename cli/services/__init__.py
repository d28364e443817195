"""Find or start the PostgreSQL and Redis servers Jobmonitor needs (`jobmonitor up`, the tests).

`postgres` and `redis` each check a given server or find or start a private one under the data
directory; `testenv` picks the servers for the test suite (`python -m cli.services test-env`,
`python -m cli.services stop-private DIR`); `system` holds what they need from the machine.
"""
