"""The link checker against a local HTTP server; nothing here reaches the internet."""

import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from resources import linkcheck
from resources.linkcheck import LinkResult, check_resources, iter_check_urls, store_result
from resources.models import Flag, FlagReason, FlagStatus, Resource, Status
from tests.factories import ResourceFactory, SectionFactory, UserFactory


def check_urls(urls, **options) -> list[LinkResult]:
    """The results of checking `urls`, in their order."""
    results = dict(iter_check_urls(urls, **options))
    return [results[index] for index in range(len(urls))]


TIMEOUT = 0.5
SLOW_SECONDS = 2.0
BUSY_SECONDS = 0.2
TRICKLE_SECONDS = 0.3  # under TIMEOUT, so that no single read times out


class Recorder:
    """What the server saw: requests, and the most requests it was answering at once."""

    def __init__(self):
        self.lock = threading.Lock()
        self.requests: list[tuple[str, str, str]] = []
        self.in_flight = 0
        self.most_in_flight = 0
        self.redirects: dict[str, str] = {}  # path: where it sends the client


class Handler(BaseHTTPRequestHandler):
    recorder: Recorder

    def log_message(self, *args):  # keep the test output quiet
        pass

    def do_HEAD(self):
        self.answer(send_body=False)

    def do_GET(self):
        self.answer(send_body=True)

    def answer(self, *, send_body: bool):
        with self.recorder.lock:
            self.recorder.requests.append(
                (self.command, self.path, self.headers.get("User-Agent", ""))
            )
        path = self.path
        if path in self.recorder.redirects:
            return self.redirect(302, self.recorder.redirects[path])
        if path == "/ok" or path.startswith("/ok-"):
            return self.reply(200, send_body)
        if path == "/no-head":
            return self.reply(405 if self.command == "HEAD" else 200, send_body)
        if path == "/forbidden-head":
            return self.reply(403 if self.command == "HEAD" else 200, send_body)
        if path == "/redirect-301":
            return self.redirect(301, "/redirect-302")
        if path == "/redirect-302":
            return self.redirect(302, "/ok")
        if path == "/loop-a":
            return self.redirect(302, "/loop-b")
        if path == "/loop-b":
            return self.redirect(302, "/loop-a")
        if path == "/missing":
            return self.reply(404, send_body)
        if path == "/error":
            return self.reply(500, send_body)
        if path == "/slow":
            time.sleep(SLOW_SECONDS)
            return self.reply(200, send_body)
        if path == "/trickle":
            return self.trickle()
        if path.startswith("/busy"):
            with self.recorder.lock:
                self.recorder.in_flight += 1
                self.recorder.most_in_flight = max(
                    self.recorder.most_in_flight, self.recorder.in_flight
                )
            time.sleep(BUSY_SECONDS)
            with self.recorder.lock:
                self.recorder.in_flight -= 1
            return self.reply(200, send_body)
        return self.reply(404, send_body)

    def trickle(self):
        """Headers a byte at a time: each read gets a byte before its timeout."""
        try:
            for byte in b"HTTP/1.1 200 OK\r\nX-Slow: " + b"a" * 40:
                self.wfile.write(bytes([byte]))
                self.wfile.flush()
                time.sleep(TRICKLE_SECONDS)
        except OSError:  # the checker gave up and hung up
            pass
        self.close_connection = True

    def reply(self, status: int, send_body: bool):
        body = b"hello\n"
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if send_body:
            self.wfile.write(body)

    def redirect(self, status: int, location: str):
        self.send_response(status)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()


@pytest.fixture(autouse=True)
def _local_servers_allowed(settings):
    """These tests run their servers on 127.0.0.1, which the checker refuses by default."""
    settings.LINKCHECK_ALLOW_PRIVATE_ADDRESSES = True


@pytest.fixture
def server():
    recorder = Recorder()
    handler = type("RecordingHandler", (Handler,), {"recorder": recorder})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    host, port = httpd.server_address[:2]
    recorder.base = f"http://{host}:{port}"
    yield recorder
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def closed_port_url():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/gone"


def check(url: str) -> LinkResult:
    return check_urls([url], timeout=TIMEOUT)[0]


# Checking links

# Only public addresses


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",
        "100.64.0.1",
        "0.0.0.0",  # noqa: S104 (an address checked, not bound)
        "::1",
        "fe80::1",
        "fd00::1",
        "::ffff:127.0.0.1",
        "::ffff:10.0.0.1",
        "224.0.0.1",
        "64:ff9b::a00:1",
        "64:ff9b::a9fe:a9fe",
        "64:ff9b:1::a00:1",
        "2002:a00:1::1",
        "2001:0:a00:1::1",
        "::a00:1",
        "::7f00:1",
        "::ffff:0:a00:1",
        "fec0::1",
    ],
)
def test_private_and_special_addresses_are_not_public(address):
    assert not linkcheck.is_public_address(address)


@pytest.mark.parametrize("address", ["93.184.215.14", "2606:4700::6810:84e5", "8.8.8.8"])
def test_public_addresses_are(address):
    assert linkcheck.is_public_address(address)


def test_a_link_to_this_machine_is_refused_without_a_request(settings, server):
    settings.LINKCHECK_ALLOW_PRIVATE_ADDRESSES = False
    for url in (server.base + "/ok", server.base.replace("127.0.0.1", "localhost") + "/ok"):
        result = check(url)
        assert not result.ok
        assert result.status_code is None
        assert "not a public address" in result.error
    assert server.requests == []


def test_a_redirect_to_a_private_address_is_refused(settings, monkeypatch, server):
    settings.LINKCHECK_ALLOW_PRIVATE_ADDRESSES = False
    # The test server stands in for a public host; 127.0.0.2 for the private one it sends to.
    monkeypatch.setattr(linkcheck, "is_public_address", lambda address: address == "127.0.0.1")
    port = server.base.rsplit(":", 1)[1]
    server.redirects = {"/elsewhere": f"http://127.0.0.2:{port}/ok"}
    result = check(server.base + "/elsewhere")
    assert not result.ok
    assert "127.0.0.2" in result.error and "not a public address" in result.error
    assert [path for _, path, _ in server.requests] == ["/elsewhere"]


def test_the_checker_ignores_proxies_from_the_environment(monkeypatch, server):
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9/")
    monkeypatch.setenv("ALL_PROXY", "http://127.0.0.1:9/")
    assert check(server.base + "/ok").ok


def test_a_working_link_is_ok_with_a_single_head_request(server):
    result = check(server.base + "/ok")
    assert (result.status_code, result.ok, result.error) == (200, True, "")
    assert result.final_url == server.base + "/ok"
    assert [method for method, _, _ in server.requests] == ["HEAD"]


@pytest.mark.parametrize("path", ["/no-head", "/forbidden-head"])
def test_a_refused_head_falls_back_to_get(server, path):
    result = check(server.base + path)
    assert result.status_code == 200
    assert result.ok
    assert [method for method, _, _ in server.requests] == ["HEAD", "GET"]


def test_redirects_are_followed_to_the_final_address(server):
    result = check(server.base + "/redirect-301")
    assert result.status_code == 200
    assert result.final_url == server.base + "/ok"
    assert [p for _, p, _ in server.requests] == ["/redirect-301", "/redirect-302", "/ok"]


def test_a_redirect_loop_fails_after_a_bounded_number_of_hops(server):
    result = check(server.base + "/loop-a")
    assert result.status_code is None
    assert not result.ok
    assert "TooManyRedirects" in result.error
    assert len(server.requests) == linkcheck.MAX_REDIRECTS + 1


@pytest.mark.parametrize("path,status", [("/missing", 404), ("/error", 500)])
def test_http_errors_fail_with_their_status(server, path, status):
    result = check(server.base + path)
    assert result.status_code == status
    assert not result.ok
    assert result.error.startswith(f"HTTP {status}")


def test_a_slow_server_times_out(server):
    started = time.monotonic()
    result = check(server.base + "/slow")
    assert result.status_code is None
    assert "Timeout" in result.error
    # HEAD timed out, then GET did: well under the server's delay of each.
    assert time.monotonic() - started < SLOW_SECONDS


def test_a_server_that_trickles_bytes_cannot_hold_a_check_beyond_its_timeout(server):
    started = time.monotonic()
    result = check(server.base + "/trickle")
    assert result.status_code is None
    assert "Timeout" in result.error
    # One deadline for HEAD and GET together; the trickle alone would last 17 s.
    assert time.monotonic() - started < TIMEOUT + 0.5


def test_a_closed_port_is_a_network_error(closed_port_url):
    result = check(closed_port_url)
    assert result.status_code is None
    assert result.error.startswith("ConnectError")
    assert result.final_url == ""


def test_requests_say_who_is_asking(server):
    check(server.base + "/ok")
    user_agent = server.requests[0][2]
    assert user_agent.startswith("MLOpsRoadmapLinkChecker/")


def test_results_come_back_in_the_order_of_the_links(server):
    paths = ["/missing", "/ok", "/error", "/redirect-302"]
    results = check_urls([server.base + path for path in paths], timeout=TIMEOUT)
    assert [result.status_code for result in results] == [404, 200, 500, 200]


@pytest.mark.parametrize("concurrency", [1, 3])
def test_no_more_links_are_checked_at_once_than_allowed(server, concurrency):
    urls = [f"{server.base}/busy-{n}" for n in range(6)]
    results = check_urls(urls, concurrency=concurrency, timeout=5)
    assert all(result.ok for result in results)
    assert server.most_in_flight == concurrency


# Storing results


def failure(status=404) -> LinkResult:
    return LinkResult(url="https://example.com/x", status_code=status, error=f"HTTP {status}")


def success(final_url="https://example.com/x") -> LinkResult:
    return LinkResult(url="https://example.com/x", status_code=200, final_url=final_url)


def automatic_flags(resource):
    return Flag.objects.filter(resource=resource, user__isnull=True, reason=FlagReason.BROKEN_LINK)


@pytest.mark.django_db
def test_a_result_is_stored_on_the_resource():
    resource = ResourceFactory()
    store_result(resource.pk, success("https://example.com/moved"))
    resource.refresh_from_db()
    assert resource.link_status_code == 200
    assert resource.link_final_url == "https://example.com/moved"
    assert resource.link_error == ""
    assert resource.link_checked_at is not None
    assert resource.link_failures == 0
    assert not resource.link_may_be_broken


@pytest.mark.django_db
def test_a_network_error_stores_no_status_and_the_error():
    resource = ResourceFactory()
    store_result(resource.pk, LinkResult(url=resource.url, status_code=None, error="boom"))
    resource.refresh_from_db()
    assert resource.link_status_code is None
    assert resource.link_error == "boom"
    assert resource.link_failures == 1


@pytest.mark.django_db
def test_the_second_failure_in_a_row_flags_the_link_once():
    resource = ResourceFactory()
    assert store_result(resource.pk, failure()) is False
    assert not automatic_flags(resource).exists()
    assert store_result(resource.pk, failure()) is True
    flag = automatic_flags(resource).get()
    assert flag.status == FlagStatus.OPEN
    assert "HTTP 404" in flag.note
    assert store_result(resource.pk, failure(500)) is False
    assert automatic_flags(resource).count() == 1
    resource.refresh_from_db()
    assert resource.link_failures == 3
    assert resource.link_may_be_broken


@pytest.mark.django_db
def test_success_resets_the_failure_count():
    resource = ResourceFactory()
    store_result(resource.pk, failure())
    store_result(resource.pk, success())
    resource.refresh_from_db()
    assert resource.link_failures == 0
    store_result(resource.pk, failure())
    assert not automatic_flags(resource).exists()  # not two in a row


@pytest.mark.django_db
def test_an_open_automatic_flag_is_never_doubled():
    resource = ResourceFactory()
    Flag.objects.create(resource=resource, user=None, reason=FlagReason.BROKEN_LINK)
    for _ in range(2):
        store_result(resource.pk, failure())
    assert automatic_flags(resource).count() == 1


@pytest.mark.django_db
def test_a_readers_own_report_does_not_stop_the_automatic_flag():
    resource = ResourceFactory()
    Flag.objects.create(resource=resource, user=UserFactory(), reason=FlagReason.BROKEN_LINK)
    store_result(resource.pk, failure())
    assert store_result(resource.pk, failure()) is True


@pytest.mark.django_db
def test_a_dismissed_flag_is_raised_again_only_after_a_new_streak():
    resource = ResourceFactory()
    store_result(resource.pk, failure())
    store_result(resource.pk, failure())
    automatic_flags(resource).update(status=FlagStatus.DISMISSED)
    store_result(resource.pk, failure())  # still the same streak: the moderator decided
    assert not automatic_flags(resource).filter(status=FlagStatus.OPEN).exists()
    store_result(resource.pk, success())
    store_result(resource.pk, failure())
    assert store_result(resource.pk, failure()) is True
    assert automatic_flags(resource).filter(status=FlagStatus.OPEN).count() == 1


@pytest.mark.django_db
def test_resources_no_longer_on_the_roadmap_are_not_flagged():
    resource = ResourceFactory(status=Status.ARCHIVED)
    store_result(resource.pk, failure())
    assert store_result(resource.pk, failure()) is False


@pytest.mark.django_db
def test_a_resource_deleted_during_the_check_is_skipped():
    assert store_result(999_999, failure()) is False


@pytest.mark.django_db(transaction=True)
def test_check_resources_stores_every_result(server, closed_port_url):
    section = SectionFactory()
    ok = ResourceFactory(section=section, url=server.base + "/redirect-301")
    missing = ResourceFactory(section=section, url=server.base + "/missing")
    gone = ResourceFactory(section=section, url=closed_port_url)
    summary = check_resources([ok, missing, gone], timeout=TIMEOUT, concurrency=2)
    assert (summary.checked, summary.ok, summary.failed, summary.flagged) == (3, 1, 2, 0)
    ok.refresh_from_db()
    missing.refresh_from_db()
    gone.refresh_from_db()
    assert (ok.link_status_code, ok.link_final_url) == (200, server.base + "/ok")
    assert (missing.link_status_code, missing.link_failures) == (404, 1)
    assert (gone.link_status_code, gone.link_failures) == (None, 1)
    assert gone.link_error.startswith("ConnectError")


# The command


def run_check_links(*args) -> str:
    out = StringIO()
    call_command("check_links", "--timeout", str(TIMEOUT), *args, stdout=out)
    return out.getvalue()


@pytest.mark.django_db(transaction=True)
def test_the_command_checks_approved_links_and_prints_a_summary(server):
    section = SectionFactory()
    ResourceFactory(section=section, url=server.base + "/ok")
    broken = ResourceFactory(section=section, url=server.base + "/error")
    pending = ResourceFactory(section=section, url=server.base + "/ok-p", status=Status.PENDING)
    assert run_check_links().strip() == "Checked 2 links: 1 ok, 1 failed, 0 flagged."
    assert run_check_links().strip() == "Checked 2 links: 1 ok, 1 failed, 1 flagged."
    assert automatic_flags(broken).count() == 1
    assert Resource.objects.get(pk=pending.pk).link_checked_at is None
    assert all(path != "/ok-p" for _, path, _ in server.requests)


@pytest.mark.django_db(transaction=True)
def test_the_command_checks_only_the_given_ids_or_the_least_recently_checked(server):
    section = SectionFactory()
    first, second, third = (
        ResourceFactory(section=section, url=f"{server.base}/ok-{n}") for n in range(3)
    )
    assert "Checked 1 link:" in run_check_links("--ids", str(second.pk))
    assert [path for _, path, _ in server.requests] == ["/ok-1"]
    output = run_check_links("--limit", "2", "--concurrency", "1", "-v", "2")
    assert "Checked 2 links: 2 ok" in output
    assert "/ok-0" in output and "/ok-2" in output  # never checked before, so first
    assert "/ok-1: HTTP 200" not in output


@pytest.mark.django_db
@pytest.mark.parametrize("args", [["--concurrency", "0"], ["--timeout", "0"], ["--limit", "-1"]])
def test_the_command_refuses_nonsense_options(args):
    with pytest.raises(CommandError):
        call_command("check_links", *args, stdout=StringIO())


# What readers see


@pytest.mark.django_db
def test_the_detail_page_says_when_the_link_was_checked(client):
    resource = ResourceFactory()
    assert "Not checked yet" in client.get(resource.get_absolute_url()).content.decode()
    store_result(resource.pk, success())
    html = client.get(resource.get_absolute_url()).content.decode()
    assert "Checked on" in html
    assert "working" in html
    assert "Link may be broken" not in html


@pytest.mark.django_db
def test_one_failure_is_not_shown_as_broken_but_two_are(client):
    resource = ResourceFactory()
    store_result(resource.pk, failure())
    section_url = resource.section.get_absolute_url()
    assert "Link may be broken" not in client.get(section_url).content.decode()
    store_result(resource.pk, failure())
    assert "Link may be broken" in client.get(section_url).content.decode()
    detail = client.get(resource.get_absolute_url()).content.decode()
    assert "Link may be broken" in detail
    assert "did not work the last 2 times" in detail


@pytest.mark.django_db
def test_a_link_marked_broken_by_moderators_shows_the_badge(client):
    resource = ResourceFactory(link_broken=True)
    html = client.get(resource.section.get_absolute_url()).content.decode()
    assert "Link may be broken" in html
    assert "Moderators marked this link as broken" in html


@pytest.mark.django_db
def test_cards_carry_the_check_date_in_a_title(client):
    resource = ResourceFactory()
    store_result(resource.pk, success())
    html = client.get(resource.section.get_absolute_url()).content.decode()
    assert 'title="Link checked on ' in html
