"""``python -m airflow_provider_connectwise.sandbox --port 8765 --seed demo``: serve until Ctrl-C.

Prints the Airflow connections (``AIRFLOW_CONN_*`` in URI and JSON form) for ConnectWise and Addigy.
Binds to 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import shlex
import signal
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from .config import Credentials, FaultConfig

if TYPE_CHECKING:
    from .server import Sandbox


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m airflow_provider_connectwise.sandbox",
        description="Serve the ConnectWise + Addigy sandbox on 127.0.0.1 until Ctrl-C.",
    )
    p.add_argument("--port", type=int, default=8765, help="TCP port on 127.0.0.1 (0: any free port)")
    p.add_argument("--seed", default="demo", help="demo, empty or bench:N[:C] (default: demo)")
    p.add_argument(
        "--no-strict", action="store_true", help="do not validate requests against the OpenAPI document"
    )
    g = p.add_argument_group("faults and load")
    g.add_argument("--latency-ms", type=float, default=0.0, help="delay added to every request")
    g.add_argument("--rate-limit", type=int, default=None, help="requests per sliding minute (per service)")
    g.add_argument("--rate-limit-style", choices=("json", "html"), default="json", help="429 body style")
    g.add_argument("--fail-500", type=float, default=0.0, metavar="P", help="probability of a 500")
    g.add_argument("--fail-500-text", choices=("error", "timeout"), default="error", help="500 message kind")
    g.add_argument("--fail-503", type=float, default=0.0, metavar="P", help="probability of a 503")
    g.add_argument("--reset", type=float, default=0.0, metavar="P", help="probability of a connection reset")
    g.add_argument(
        "--lost-after-commit",
        type=float,
        default=0.0,
        metavar="P",
        help="probability that a request is applied but its answer lost",
    )
    g.add_argument("--lost-after-commit-mode", choices=("reset", "500", "504"), default="reset")
    g.add_argument("--fault-scope", choices=("connectwise", "addigy", "both"), default="both")
    g.add_argument(
        "--fault-methods", default=None, help="comma-separated methods faults apply to, e.g. POST,PATCH"
    )
    g.add_argument("--fault-seed", type=int, default=0, help="seed of the fault RNG")
    c = p.add_argument_group("credentials")
    defaults = Credentials()
    c.add_argument("--company", default=defaults.company)
    c.add_argument("--public-key", default=defaults.public_key)
    c.add_argument("--private-key", default=defaults.private_key)
    c.add_argument("--client-id", default=defaults.client_id)
    c.add_argument("--addigy-api-key", default=defaults.addigy_api_key)
    c.add_argument("--addigy-org-id", default=defaults.addigy_org_id)
    return p


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


#: ``FaultConfig`` field -> command-line option (``args`` attribute).
_FAULT_OPTIONS = {
    "latency_ms": "latency_ms",
    "rate_limit": "rate_limit",
    "rate_limit_style": "rate_limit_style",
    "fail_500": "fail_500",
    "fail_500_text": "fail_500_text",
    "fail_503": "fail_503",
    "reset": "reset",
    "lost_after_commit": "lost_after_commit",
    "lost_after_commit_mode": "lost_after_commit_mode",
    "scope": "fault_scope",
    "seed": "fault_seed",
}
_CREDENTIAL_OPTIONS = ("company", "public_key", "private_key", "client_id", "addigy_api_key", "addigy_org_id")


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        faults = FaultConfig(
            **{name: getattr(args, option) for name, option in _FAULT_OPTIONS.items()},
            methods=[m.strip() for m in args.fault_methods.split(",")] if args.fault_methods else None,
        )
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    credentials = Credentials(**{name: getattr(args, name) for name in _CREDENTIAL_OPTIONS})
    from .server import Sandbox

    sb = Sandbox(
        seed=args.seed, strict=not args.no_strict, port=args.port, credentials=credentials, faults=faults
    )
    try:
        sb.start()
    except OSError as exc:
        print(f"error: cannot listen on 127.0.0.1:{args.port}: {exc}", file=sys.stderr)
        return 1
    print(_banner(sb, args), flush=True)
    signal.signal(signal.SIGTERM, _interrupt)
    sb.serve_forever()
    print("sandbox stopped", flush=True)
    return 0


def _banner(sb: Sandbox, args: argparse.Namespace) -> str:
    """Where the sandbox listens, and the Airflow connections to use it."""
    mode = "non-strict" if args.no_strict else "strict"
    lines = [
        f"ConnectWise + Addigy sandbox on {sb.url} (seed {args.seed}, {mode})",
        f"ConnectWise API: {sb.api_url}",
        f"Addigy API:      {sb.addigy_url}",
        f"Admin:           {sb.url}/_sandbox/config",
        "",
        "# Airflow connections, URI form:",
        *(f"export {k}={shlex.quote(v)}" for k, v in sb.airflow_env(form="uri").items()),
        "# Airflow connections, JSON form:",
        *(f"export {k}={shlex.quote(v)}" for k, v in sb.airflow_env(form="json").items()),
        "",
        "Press Ctrl-C to stop.",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
