"""Cross-cutting request handling: one log line per request, and whole-page caching for
anonymous readers."""

import gzip
import hashlib
import logging
import re
import time

from django.conf import settings
from django.contrib.messages.storage.cookie import CookieStorage
from django.http import Http404, HttpResponse
from django.utils.cache import patch_vary_headers

from config.cache import content_version, get_versioned, set_versioned

request_logger = logging.getLogger("mlops.request")


class RequestLogMiddleware:
    """Log one line per request with its method, path, status and duration."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        duration_ms = round((time.perf_counter() - started) * 1000, 2)
        user = getattr(request, "user", None)
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
                "user_id": user.pk if user is not None and user.is_authenticated else None,
                "cache": response.get("X-Page-Cache", ""),
                "remote_addr": request.META.get("REMOTE_ADDR", ""),
            },
        )
        return response


ACCEPTS_GZIP = re.compile(r"\bgzip\b")  # as django.middleware.gzip reads Accept-Encoding
CACHEABLE_PATHS = re.compile(r"^/(?:$|sections/[-\w]+/$|resources/(?:\d+/)?$|tags/(?:[-\w]+/)?$)")


class AnonymousPageCacheMiddleware:
    """Serve whole pages to anonymous readers from the cache.

    Only requests without a session (or messages) cookie qualify, so a signed-in reader never
    sees someone else's page, and a response that sets a cookie is never stored. Keys carry
    the content version, which every change to sections, resources or votes bumps.

    It runs first, so that a hit skips every other middleware; what they add to a response
    (security headers, the Content Security Policy) is stored with the page. Host
    validation still applies, and a request that SecurityMiddleware would redirect to HTTPS
    goes on to it.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        seconds = settings.ANONYMOUS_PAGE_CACHE_SECONDS
        if seconds <= 0 or not self._cacheable_request(request):
            return self.get_response(request)
        # The scheme and host are part of the page (canonical links, HSTS); get_host() also
        # refuses a host outside ALLOWED_HOSTS (DisallowedHost, a 400).
        address = f"{request.scheme}://{request.get_host()}{request.get_full_path()}"
        digest = hashlib.sha256(address.encode()).hexdigest()
        # Browsers that take gzip get a gzipped copy, others a plain one: each is kept as it
        # is sent, so a hit neither compresses nor decompresses. A cached page holds no
        # secret (no session, no CSRF token), so compressing it gives BREACH nothing to find.
        gzipped = ACCEPTS_GZIP.search(request.headers.get("Accept-Encoding", "")) is not None
        encoding = "gzip" if gzipped else "identity"
        key = f"page:{content_version()}:{request.method}:{encoding}:{digest}"
        cached = get_versioned(key, seconds)
        if cached is not None:
            status, headers, body = cached
            response = HttpResponse(body, status=status, headers=headers)
            response["X-Page-Cache"] = "hit"
            return response
        response = self.get_response(request)
        if self._cacheable_response(response):
            if hasattr(response, "render") and callable(response.render):
                response.render()
            patch_vary_headers(response, ("Accept-Encoding",))
            if gzipped:
                response.content = gzip.compress(response.content, compresslevel=6, mtime=0)
                response["Content-Encoding"] = "gzip"
            response["Content-Length"] = str(len(response.content))
            # Status, headers and body: quicker to load than a pickled response.
            stored = (response.status_code, dict(response.headers.items()), response.content)
            set_versioned(key, stored, seconds)
            response["X-Page-Cache"] = "miss"
        return response

    @staticmethod
    def _cacheable_request(request) -> bool:
        return (
            request.method in ("GET", "HEAD")
            and settings.SESSION_COOKIE_NAME not in request.COOKIES
            and CookieStorage.cookie_name not in request.COOKIES
            and "HTTP_HX_REQUEST" not in request.META
            and "HTTP_AUTHORIZATION" not in request.META
            and (request.is_secure() or not settings.SECURE_SSL_REDIRECT)
            and CACHEABLE_PATHS.match(request.path) is not None
        )

    @staticmethod
    def _cacheable_response(response) -> bool:
        return (
            response.status_code == 200
            and not response.cookies
            and not response.streaming
            and "private" not in response.get("Cache-Control", "")
            and "no-store" not in response.get("Cache-Control", "")
        )


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
