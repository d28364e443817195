"""What every router uses, below both the app (`backend/api`) and the domain routers
(`backend/<domain>/api.py`), so imports between them go one way: app -> routers -> here.
`deps` (the request's transaction, the caller and role checks, the API's Redis) and
`responses` (the error responses routes document in OpenAPI)."""
