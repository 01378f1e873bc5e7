"""Open client connections of the uvicorn server, so a fault can drop one without answering.

``server.py`` registers each transport here (its uvicorn protocol subclass); the middleware calls
``abort_connection(scope)``. Without a registered transport (``TestClient``, another server) the
abort raises ``ConnectionResetError`` instead, which a test client surfaces as a connection error.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
from typing import Any

_lock = threading.Lock()
_transports: dict[tuple[Any, Any], Any] = {}


def _key(client: Any, server: Any) -> tuple[Any, Any]:
    return (tuple(client) if client else None, tuple(server) if server else None)


def register(client: Any, server: Any, transport: Any) -> None:
    with _lock:
        _transports[_key(client, server)] = transport


def unregister(client: Any, server: Any) -> None:
    with _lock:
        _transports.pop(_key(client, server), None)


def abort_connection(scope: dict[str, Any]) -> bool:
    """Reset the connection of ``scope`` (RST, no response). Returns ``False`` if it is not ours."""
    with _lock:
        transport = _transports.get(_key(scope.get("client"), scope.get("server")))
    if transport is None:
        return False
    sock = transport.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError, AttributeError):  # platform dependent
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()
    return True
