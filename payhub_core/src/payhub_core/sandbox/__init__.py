"""The payhub sandbox: gateway emulators from adapter packages, served on one local port.

Needs the ``sandbox`` extra (``pip install payhub-core[sandbox]``) to serve.
"""

from payhub_core.sandbox._emulator import ASGIApp, DemoCase, Emulator
from payhub_core.sandbox._notify import Delivery, Notifier
from payhub_core.sandbox._pages import autosubmit_page, checkout_page
from payhub_core.sandbox._server import (
    DEFAULT_HOST,
    DEFAULT_PORT,
    SANDBOX_GROUP,
    SandboxServer,
    build_app,
    load_emulators,
)

__all__ = [
    "DEFAULT_HOST",
    "DEFAULT_PORT",
    "SANDBOX_GROUP",
    "ASGIApp",
    "Delivery",
    "DemoCase",
    "Emulator",
    "Notifier",
    "SandboxServer",
    "autosubmit_page",
    "build_app",
    "checkout_page",
    "load_emulators",
]
