"""Views every deployment needs, whatever the apps: the health check and /favicon.ico."""

import secrets

from django.contrib.staticfiles.storage import staticfiles_storage
from django.core.cache import cache
from django.db import DatabaseError, connection
from django.http import HttpResponsePermanentRedirect, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe


@never_cache
@require_safe
def healthz(request):
    """Liveness and readiness: the database answers and the cache stores and returns."""
    checks = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        checks["database"] = "ok"
    except DatabaseError as error:
        checks["database"] = f"error: {error.__class__.__name__}"
    try:
        token = secrets.token_hex(8)
        cache.set("healthz", token, 10)
        checks["cache"] = "ok" if cache.get("healthz") == token else "error: no round trip"
    except Exception as error:  # noqa: BLE001 - any cache backend failure means unhealthy
        checks["cache"] = f"error: {error.__class__.__name__}"
    healthy = all(value == "ok" for value in checks.values())
    return JsonResponse(
        {"status": "ok" if healthy else "unavailable", "checks": checks},
        status=200 if healthy else 503,
    )


@require_safe
def favicon(request):
    """Browsers and feed readers ask for /favicon.ico whatever the page's <link rel=icon> says."""
    return HttpResponsePermanentRedirect(staticfiles_storage.url("img/favicon.svg"))
