"""Link health: visit resources' links and remember which ones stopped working.

`iter_check_urls` only talks HTTP and never touches the database, so it runs in worker threads
outside any transaction. `store_result` saves one outcome in a short transaction of its own
and raises a broken-link flag for moderators when a link has failed twice in a row.
"""

import socket
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime

import httpcore
import httpx
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from resources.models import (
    LINK_FAILURES_BEFORE_BROKEN,
    Flag,
    FlagReason,
    FlagStatus,
    Resource,
    Status,
)
from resources.normalize import is_public_address
from resources.selectors import pages_changed

DEFAULT_TIMEOUT = 10.0
DEFAULT_CONCURRENCY = 8
MAX_REDIRECTS = 10
# Servers that refuse HEAD, or refuse it to robots, often answer GET properly.
RETRY_WITH_GET = frozenset({403, 405, 501})
MAX_ERROR_LENGTH = 500


def user_agent() -> str:
    site = getattr(settings, "SITE_URL", "")
    return f"MLOpsRoadmapLinkChecker/1.0 (+{site}; checks that the links on the roadmap still work)"


@dataclass(frozen=True)
class LinkResult:
    url: str
    status_code: int | None  # None when no HTTP answer came back
    final_url: str = ""  # where the redirects ended, "" when no answer came back
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.status_code is not None and self.status_code < 400

    def describe(self) -> str:
        return self.error or f"HTTP {self.status_code}"


@dataclass
class CheckSummary:
    checked: int = 0
    ok: int = 0
    failed: int = 0
    flagged: int = 0


# When the link check running in this thread must end (time.monotonic()); None outside one.
_deadline: ContextVar[float | None] = ContextVar("linkcheck_deadline", default=None)


def _within_deadline(timeout: float | None) -> float | None:
    """The timeout for one network operation, cut to what is left of the check's deadline:
    httpx's timeouts restart with every byte, so a server that trickles a byte every few
    seconds would otherwise hold a check for as long as it likes."""
    deadline = _deadline.get()
    if deadline is None:
        return timeout
    left = deadline - time.monotonic()
    if left <= 0:
        raise httpcore.ReadTimeout("the check took longer than its time limit")
    return left if timeout is None else min(timeout, left)


class _DeadlineStream(httpcore.NetworkStream):
    def __init__(self, stream: httpcore.NetworkStream) -> None:
        self._stream = stream

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._stream.read(max_bytes, _within_deadline(timeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._stream.write(buffer, _within_deadline(timeout))

    def close(self) -> None:
        self._stream.close()

    def start_tls(self, ssl_context, server_hostname=None, timeout=None):
        tls = self._stream.start_tls(ssl_context, server_hostname, _within_deadline(timeout))
        return _DeadlineStream(tls)

    def get_extra_info(self, info: str):
        return self._stream.get_extra_info(info)


class PublicAddressesOnly(httpcore.SyncBackend):
    """Connects only to public addresses, unless settings allow others.

    The links come from users: without this, a suggestion of http://10.0.0.5/ or
    http://169.254.169.254/ would have the checker probe the servers' own network. The host
    is resolved once, every address is checked, and the connection goes to a checked address,
    so a second DNS answer cannot swap in another; redirects connect through here too.
    """

    def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        try:
            found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError) as error:
            raise httpcore.ConnectError(f"{host}: {error}") from error
        addresses = list(dict.fromkeys(info[4][0] for info in found))
        if not settings.LINKCHECK_ALLOW_PRIVATE_ADDRESSES:
            for address in addresses:
                if not is_public_address(address):
                    raise httpcore.ConnectError(
                        f"{host} is at {address}, which is not a public address"
                    )
        last_error: Exception = httpcore.ConnectError(f"{host}: no address")
        for address in addresses:
            try:
                stream = super().connect_tcp(
                    address, port, _within_deadline(timeout), local_address, socket_options
                )
                return _DeadlineStream(stream)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as error:
                last_error = error
        raise last_error


def make_client(*, timeout: float = DEFAULT_TIMEOUT, concurrency: int = DEFAULT_CONCURRENCY):
    """One HTTP client shared by the worker threads; httpx.Client is thread-safe.

    It connects directly (no proxy from the environment) and only to public addresses.
    """
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    transport = httpx.HTTPTransport(limits=limits)
    # httpx takes no network backend of its own; its connection pool (httpcore, pinned in
    # requirements.txt) does. tests/resources/test_linkcheck.py checks that it is used.
    transport._pool._network_backend = PublicAddressesOnly()
    return httpx.Client(
        transport=transport,
        trust_env=False,
        follow_redirects=True,
        max_redirects=MAX_REDIRECTS,
        timeout=httpx.Timeout(timeout),
        headers={"User-Agent": user_agent(), "Accept": "*/*"},
    )


def check_url(url: str, *, client: httpx.Client) -> LinkResult:
    """HEAD the link, and GET it when HEAD is refused or its answer never came; the whole
    check, redirects and the GET included, ends within the client's read timeout."""
    token = _deadline.set(time.monotonic() + (client.timeout.read or DEFAULT_TIMEOUT))
    try:
        return _check_url(url, client=client)
    finally:
        _deadline.reset(token)


def _check_url(url: str, *, client: httpx.Client) -> LinkResult:
    try:
        response = client.head(url)
    except (httpx.TooManyRedirects, httpx.ConnectError, httpx.ConnectTimeout) as error:
        return _error_result(url, error)  # GET would end the same way
    except (httpx.HTTPError, httpx.InvalidURL):
        pass
    else:
        if response.status_code not in RETRY_WITH_GET:
            return _response_result(url, response)
    try:
        # Streaming reads the status line and headers only, never a large body.
        with client.stream("GET", url) as response:
            return _response_result(url, response)
    except (httpx.HTTPError, httpx.InvalidURL) as error:
        return _error_result(url, error)


def iter_check_urls(
    urls: Iterable[str],
    *,
    concurrency: int = DEFAULT_CONCURRENCY,
    timeout: float = DEFAULT_TIMEOUT,
    client: httpx.Client | None = None,
) -> Iterator[tuple[int, LinkResult]]:
    """Yield (position in `urls`, result) as each check finishes, at most `concurrency` at once."""
    urls = list(urls)
    if not urls:
        return
    concurrency = max(1, concurrency)
    own_client = client is None
    client = client or make_client(timeout=timeout, concurrency=concurrency)
    try:
        with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="linkcheck") as pool:
            futures = {pool.submit(check_url, url, client=client): i for i, url in enumerate(urls)}
            for future in as_completed(futures):
                yield futures[future], future.result()
    finally:
        if own_client:
            client.close()


def store_result(
    resource_id: int, result: LinkResult, *, checked_at: datetime | None = None
) -> bool:
    """Save one check on its resource; return True when it raised a broken-link flag."""
    with transaction.atomic():
        resource = Resource.objects.select_for_update().filter(pk=resource_id).first()
        if resource is None:  # deleted while the check ran
            return False
        was_marked = resource.link_may_be_broken
        resource.link_checked_at = checked_at or timezone.now()
        resource.link_status_code = result.status_code
        resource.link_error = result.error[:MAX_ERROR_LENGTH]
        resource.link_final_url = result.final_url[:2000]
        resource.link_failures = 0 if result.ok else resource.link_failures + 1
        # update(), not save(): a check changes what readers see only when the broken-link
        # mark comes or goes, so only then are cached pages emptied.
        Resource.objects.filter(pk=resource.pk).update(
            link_checked_at=resource.link_checked_at,
            link_status_code=resource.link_status_code,
            link_error=resource.link_error,
            link_final_url=resource.link_final_url,
            link_failures=resource.link_failures,
        )
        if resource.link_may_be_broken != was_marked:
            pages_changed()
        # Only when the streak reaches the threshold: a moderator who dismissed the flag is
        # not asked again until the link has worked and then failed twice more.
        if resource.link_failures != LINK_FAILURES_BEFORE_BROKEN:
            return False
        if resource.status != Status.APPROVED or _has_open_automatic_flag(resource):
            return False
        Flag.objects.create(
            resource=resource,
            user=None,
            reason=FlagReason.BROKEN_LINK,
            note=(
                f"The automatic link check failed {resource.link_failures} times in a row; "
                f"the last answer was: {result.describe()}."
            ),
        )
        return True


def check_resources(
    resources: Iterable[Resource],
    *,
    concurrency: int = DEFAULT_CONCURRENCY,
    timeout: float = DEFAULT_TIMEOUT,
    client: httpx.Client | None = None,
    on_result: Callable[[Resource, LinkResult, bool], None] | None = None,
) -> CheckSummary:
    """Check the resources' links and store each result as soon as it arrives."""
    resources = list(resources)
    summary = CheckSummary()
    for index, result in iter_check_urls(
        [resource.url for resource in resources],
        concurrency=concurrency,
        timeout=timeout,
        client=client,
    ):
        resource = resources[index]
        flagged = store_result(resource.pk, result)
        summary.checked += 1
        summary.ok += int(result.ok)
        summary.failed += int(not result.ok)
        summary.flagged += int(flagged)
        if on_result:
            on_result(resource, result, flagged)
    return summary


def _has_open_automatic_flag(resource: Resource) -> bool:
    return Flag.objects.filter(
        resource=resource,
        user__isnull=True,
        reason=FlagReason.BROKEN_LINK,
        status=FlagStatus.OPEN,
    ).exists()


def _response_result(url: str, response: httpx.Response) -> LinkResult:
    error = "" if response.status_code < 400 else f"HTTP {response.status_code}"
    if error and response.reason_phrase:
        error = f"{error} {response.reason_phrase}"
    return LinkResult(
        url=url, status_code=response.status_code, final_url=str(response.url), error=error
    )


def _error_result(url: str, error: Exception) -> LinkResult:
    detail = str(error) or "no details"
    return LinkResult(url=url, status_code=None, error=f"{type(error).__name__}: {detail}")
