"""ASGI app factory: ``create_app(state, config)`` wires the routes, error rendering and middleware."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import Response

from .config import SandboxConfig
from .exceptions import SandboxError
from .middleware import SandboxMiddleware
from .models import SandboxState
from .routes import addigy, admin, bulk, connectwise, lookups, notes, sites
from .runtime import Runtime


def _render_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, SandboxError)
    status, content_type, body, headers = exc.render()
    if content_type.startswith("application/json") and request.url.path.split("/")[2:3] == ["apis"]:
        headers = {"api-current-version": "2025.1", **headers}
    return Response(body, status_code=status, media_type=content_type, headers=headers)


def create_app(
    state: SandboxState | None = None,
    config: SandboxConfig | None = None,
    *,
    seed: str = "demo",
    base_url: str | None = None,
) -> FastAPI:
    """Build the sandbox ASGI app (usable with ``fastapi.testclient.TestClient`` without a socket).

    :param state: the data to serve; default: a fresh ``SandboxState`` built from ``seed``.
    :param config: behaviour and knobs; default ``SandboxConfig()`` (strict).
    :param seed: seed name when ``state`` is not given (also what ``reset`` goes back to).
    :param base_url: URL clients use (for ``_info`` hrefs and connection dicts); default
        ``http://testserver`` (TestClient's).
    """
    config = config or SandboxConfig()
    if state is None:
        state = SandboxState.seeded(seed, config.credentials, nested_patch=config.nested_patch)
    rt = Runtime(state, config, seed=state.seed.name)
    if base_url:
        rt.set_base_url(base_url)
    app = FastAPI(title="ConnectWise + Addigy sandbox", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.runtime = rt
    app.add_exception_handler(SandboxError, _render_error)
    app.add_exception_handler(admin.AdminError, admin.admin_error_handler)
    app.include_router(admin.router)
    app.include_router(connectwise.login)
    app.include_router(addigy.router)
    # before connectwise.router: its last route answers every path it does not know
    app.include_router(bulk.router)
    app.include_router(sites.router)
    app.include_router(notes.router)
    app.include_router(lookups.router)
    app.include_router(connectwise.router)
    app.add_middleware(SandboxMiddleware, runtime=rt)
    return app
