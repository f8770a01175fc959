"""The Django project of the web tests: settings, and a URLconf that each Django server
fixture adds its mount to (``/sync/payhub/`` for WSGI with a Hub, ``/async/payhub/`` for
ASGI with an AsyncHub)."""

from __future__ import annotations

from typing import Any

urlpatterns: list[Any] = []


def configure() -> None:
    """Configure Django once per process, with the CSRF middleware on (the endpoints must
    be exempt from it) and this module as the URLconf."""
    from django.conf import settings

    if settings.configured:
        return
    settings.configure(
        DEBUG=False,
        SECRET_KEY="payhub-web-tests-not-secret",
        ALLOWED_HOSTS=["127.0.0.1", "localhost", "testserver"],
        ROOT_URLCONF="web_django_urls",
        MIDDLEWARE=[
            "django.middleware.common.CommonMiddleware",
            "django.middleware.csrf.CsrfViewMiddleware",
        ],
        INSTALLED_APPS=[],
        DATA_UPLOAD_MAX_MEMORY_SIZE=10 * 1024 * 1024,
        USE_TZ=True,
        LOGGING_CONFIG=None,
    )
    import django

    django.setup()


def mount(prefix: str, hub: Any, **options: Any) -> None:
    """Serve ``hub``'s endpoints at ``/<prefix>/``."""
    from django.urls import clear_url_caches, include, path

    from payhub_core.web.django import urls

    urlpatterns.append(path(f"{prefix}/", include(urls(hub, **options))))
    clear_url_caches()
