"""Cross-cutting request handling: one log line per request, a 503 page when the database or
the cache fails, and a 404 for an unconfigured social sign-in."""

import logging
import time

from django.db import DatabaseError
from django.http import Http404, HttpResponse
from django.template.loader import render_to_string

request_logger = logging.getLogger("mlops.request")
error_logger = logging.getLogger("mlops.unavailable")
RETRY_AFTER_SECONDS = 30


def _cache_errors() -> tuple[type[BaseException], ...]:
    """What Redis and django-redis raise when the cache server is down."""
    try:
        from django_redis.exceptions import ConnectionInterrupted
        from redis.exceptions import RedisError
    except ImportError:  # pragma: no cover - django-redis is a runtime requirement
        return ()
    return (RedisError, ConnectionInterrupted)


UNAVAILABLE_ERRORS = (DatabaseError, *_cache_errors())


class ServiceUnavailableMiddleware:
    """A view stopped by a failing database or cache answers 503 with a page that says
    nothing was saved, which holds: every write runs in a transaction that the error rolled
    back. The rate limits of sign-in, sign-up and password reset live in the cache, so while
    it is down those forms land here too: they fail closed rather than let guesses through
    uncounted."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, UNAVAILABLE_ERRORS):
            return None
        error_logger.error(
            "%s %s: %s",
            request.method,
            request.path,
            exception.__class__.__name__,
            exc_info=exception,
        )
        # Drawn without the request: no context processor may touch what just failed.
        response = HttpResponse(render_to_string("503.html"), status=503)
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        response["Cache-Control"] = "no-store"
        return response


def _user_id(request) -> int | None:
    """Who asked, if the request already read it: AuthenticationMiddleware keeps the user it
    loaded as `_cached_user`. Reading it afresh here could query a database that is down, and
    a request that failed for that is logged all the same, without asking it again."""
    user = getattr(request, "_cached_user", None)
    return user.pk if user is not None and user.is_authenticated else None


class RequestLogMiddleware:
    """Log one line per request with its method, path, status and duration."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        duration_ms = round((time.perf_counter() - started) * 1000, 2)
        request_logger.info(
            "%s %s %s %.2fms",
            request.method,
            request.path,
            response.status_code,
            duration_ms,
            extra={
                "method": request.method,
                "path": request.path,
                "status": response.status_code,
                "duration_ms": duration_ms,
                "user_id": _user_id(request),
                "remote_addr": request.META.get("REMOTE_ADDR", ""),
            },
        )
        return response


class MissingSocialAppMiddleware:
    """A social sign-in that is not configured (no client id and secret) is a 404."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        from allauth.socialaccount.models import SocialApp

        if isinstance(exception, SocialApp.DoesNotExist):
            raise Http404("This sign-in method is not configured.") from exception
        return None
