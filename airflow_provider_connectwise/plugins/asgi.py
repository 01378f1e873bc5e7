"""An ASGI app built on its first request, so that loading the plugin costs (almost) nothing.

Airflow loads plugins in the scheduler, the DAG processor and every task process, where the
page is never served; only the API server's first request to ``/connectwise`` imports FastAPI,
Jinja2 and the routes.
"""

from __future__ import annotations

import importlib
import threading
from typing import Any


class LazyApp:
    """An ASGI callable that builds the app named ``"module:factory"`` on first use.

    :param target: ``"package.module:factory"``; the factory takes no argument.
    """

    def __init__(self, target: str) -> None:
        self.target = target
        self._app: Any = None
        self._lock = threading.Lock()

    @property
    def app(self) -> Any:
        """The built app (built now if needed)."""
        if self._app is None:
            with self._lock:
                if self._app is None:
                    module, _, factory = self.target.partition(":")
                    self._app = getattr(importlib.import_module(module), factory)()
        return self._app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self.app(scope, receive, send)

    def __repr__(self) -> str:
        return f"LazyApp({self.target!r})"
