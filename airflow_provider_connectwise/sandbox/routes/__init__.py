"""HTTP routes (FastAPI): short handlers that parse, call the models and return."""
