"""HTTP: `create_app` (app.py) from the container's components, every FastAPI dependency
(deps.py), the request and response schemas (schemas.py), one router per resource (routes/)
and the chat widget (web/)."""
