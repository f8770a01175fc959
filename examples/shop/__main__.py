"""``python -m examples.shop``: the payhub sandbox and the example shop, ready to click.

Without ``--sandbox`` a sandbox with every installed emulator is started in the same
process; with ``--sandbox URL`` the shop uses one already running (``payhub sandbox``).
"""

from __future__ import annotations

import argparse
import importlib
import sys
import tempfile
from pathlib import Path

# The shop's web side is not part of payhub: `make demo` installs payhub (sandbox and
# ledger included) without it, `make test` with it.
WEB_PACKAGES = {"fastapi": "fastapi", "multipart": "python-multipart", "jinja2": "Jinja2"}
MISSING_EXIT = 3  # what `payhub` answers when an extra is missing


def missing_packages() -> list[str]:
    missing = []
    for module, distribution in WEB_PACKAGES.items():
        try:
            importlib.import_module(module)
        except ImportError:
            missing.append(distribution)
    return missing


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m examples.shop", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--sandbox", help="URL of a running `payhub sandbox` (default: start one)")
    parser.add_argument("--db", help="ledger SQLite file (default: a new temporary file)")
    args = parser.parse_args(argv)

    missing = missing_packages()
    if missing:
        print(
            f"python -m examples.shop: {', '.join(missing)} not installed; run "
            "`.venv/bin/pip install -r examples/shop/requirements.txt`",
            file=sys.stderr,
        )
        return MISSING_EXIT

    import uvicorn

    from examples.shop.setup import build_shop
    from payhub_core.sandbox import SandboxServer

    sandbox: SandboxServer | None = None
    sandbox_url = args.sandbox
    if sandbox_url is None:
        sandbox = SandboxServer(port=0).start()
        sandbox_url = sandbox.url
    db = Path(args.db) if args.db else Path(tempfile.mkdtemp(prefix="payhub-shop-")) / "shop.db"
    public_url = f"http://{args.host}:{args.port}"
    app, _hub, _fulfilment = build_shop(sandbox_url, public_url, db)
    print(f"sandbox   {sandbox_url}")
    print(f"shop      {public_url}/           (operator page: {public_url}/operator)")
    print(f"ledger    {db}")
    try:
        uvicorn.run(app, host=args.host, port=args.port, log_level="info")
    finally:
        if sandbox is not None:
            sandbox.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
