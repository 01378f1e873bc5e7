"""The page's FastAPI app: routes, static files, HTML error pages, the templates' environment."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import jinja2
from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

HERE = Path(__file__).parent

_MESSAGES = {
    401: "Sign in to Airflow to see this page.",
    403: "You do not have access to this.",
    404: "Not found.",
}


def template_environment() -> jinja2.Environment:
    """Jinja2 with autoescaping everywhere: device names and errors are untrusted text."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["utc"] = _utc
    return env


def _utc(value: Any) -> str:
    if value is None:
        return ""
    return value.strftime("%Y-%m-%d %H:%M:%S UTC")


#: Defence in depth for pages that show untrusted text and carry a button: only our own scripts,
#: styles and forms, and only Airflow's own UI may frame them (no clickjacking of Retry Pending).
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'self'"
    ),
    "X-Frame-Options": "SAMEORIGIN",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


def login_url(auth_manager: Any, next_url: str) -> str:
    """The auth manager's login page, told to come back to `next_url` after signing in.

    Compatibility: Airflow 3.3.2's SimpleAuthManager.get_url_login puts next_url in the URL as
    ?next=; 3.2.0's ignores the argument and returns a bare /auth/login, though its login page reads
    ?next= all the same. A URL that comes back without a `next` gets one here.
    """
    url = auth_manager.get_url_login(next_url=next_url)
    if "next" in parse_qs(urlsplit(url).query):
        return url
    return f"{url}{'&' if '?' in url else '?'}{urlencode({'next': next_url})}"


def _wants_html(request: Request) -> bool:
    return "text/html" in request.headers.get("accept", "")


def create_app() -> FastAPI:
    """Build the app mounted under ``/connectwise`` on Airflow's API server."""
    from airflow.api_fastapi.app import get_auth_manager
    from airflow.api_fastapi.common.dagbag import create_dag_bag

    from airflow_provider_connectwise.plugins.linking import router as linking
    from airflow_provider_connectwise.plugins.routes import router
    from airflow_provider_connectwise.plugins.urls import Links

    app = FastAPI(
        title="ConnectWise Devices Binding",
        description="Devices Binding per policy, link status and Retry Pending (airflow-provider-connectwise)",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )

    @app.middleware("http")
    async def security_headers(request: Request, call_next: Any) -> Response:
        response = await call_next(request)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    app.state.templates = template_environment()
    app.state.dag_bag = create_dag_bag()
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    app.include_router(linking)  # first: "/policies/{id}/unlink" before "/policies/{id:path}"
    app.include_router(router)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        if exc.status_code == 401 and request.method == "GET" and _wants_html(request):
            return RedirectResponse(login_url(get_auth_manager(), str(request.url)), status_code=303)
        if not _wants_html(request):
            return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)
        page = request.app.state.templates.get_template("error.html").render(
            links=Links(request.scope.get("root_path", "")),
            status=exc.status_code,
            title=_MESSAGES.get(exc.status_code, "Something went wrong."),
            detail=exc.detail if isinstance(exc.detail, str) else "",
        )
        return HTMLResponse(page, status_code=exc.status_code, headers=exc.headers)

    return app
