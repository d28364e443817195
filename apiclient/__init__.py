"""The client side of the REST API, shared by the web monitor (`jobmonitor/`) and the CLI
(`cli/`) so that neither imports the other: `client.ApiClient` (async, typed: the web monitor)
and `sync.SyncClient` (blocking, the API's JSON as is: the CLI) on one `base`, their one error
tree (`errors`), the response models, the Server-Sent Events parser and the formatting both
show (durations, costs).

It talks HTTP only: nothing here imports the engine, the workers or either front end."""
