"""An HTTP/1.1 load generator: N keep-alive connections, one thread each.

Closed loop (the default): each connection sends a request, reads the whole response, records
its latency with time.perf_counter_ns, and sends the next one at once. Latency percentiles
cover the requests that start inside the measured window, which follows the warm-up (the last
ones are awaited); throughput counts the responses completed inside the window. Errors count
every failed request, the warm-up's included.

Open loop (`rate=`): requests are due at fixed intervals of 1/rate from the start of the
warm-up; each connection takes the next due time from a shared counter, sleeps until then and
sends. Latency runs from the due time, not from the actual send, so a server (or a client
with every connection busy) that falls behind shows its backlog instead of hiding it
("coordinated omission"). The window is the same, judged by due times.
"""

import re
import socket
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

HEADER_END = b"\r\n\r\n"
RECV_SIZE = 256 * 1024


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def cookies(self) -> dict[str, str]:
        found = {}
        for line in self.headers.get("set-cookie", "").split("\n"):
            if "=" in line:
                name, _, rest = line.partition("=")
                found[name.strip()] = rest.split(";", 1)[0].strip()
        return found


class ConnectionClosed(Exception):
    pass


class Connection:
    """One keep-alive HTTP/1.1 connection over a raw socket; reconnects when told to close."""

    def __init__(self, host: str, port: int, timeout: float = 120.0):
        self.host, self.port, self.timeout = host, port, timeout
        self.sock: socket.socket | None = None
        self.buffer = bytearray()
        self.reconnects = 0

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
            self.sock = None
        self.buffer.clear()

    def _connect(self) -> None:
        self.sock = socket.create_connection((self.host, self.port), timeout=self.timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buffer.clear()
        self.reconnects += 1

    def _fill(self) -> None:
        chunk = self.sock.recv(RECV_SIZE)
        if not chunk:
            raise ConnectionClosed("the server closed the connection")
        self.buffer += chunk

    def _read_exactly(self, size: int) -> bytes:
        while len(self.buffer) < size:
            self._fill()
        data = bytes(self.buffer[:size])
        del self.buffer[:size]
        return data

    def _read_line(self) -> bytes:
        while (end := self.buffer.find(b"\r\n")) < 0:
            self._fill()
        line = bytes(self.buffer[:end])
        del self.buffer[: end + 2]
        return line

    def request(self, request: Request) -> Response:
        if self.sock is None:
            self._connect()
        lines = [
            f"{request.method} {request.path} HTTP/1.1",
            f"Host: {self.host}:{self.port}",
            "User-Agent: mlops-roadmap-bench",
            "Accept: text/html,application/json",
        ]
        lines += [f"{name}: {value}" for name, value in request.headers.items()]
        if request.body or request.method == "POST":
            lines.append(f"Content-Length: {len(request.body)}")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        self.sock.sendall(head + request.body)
        response = self._read_response(request.method)
        if response.headers.get("connection", "").lower() == "close":
            self.close()
        return response

    def _read_response(self, method: str) -> Response:
        while (end := self.buffer.find(HEADER_END)) < 0:
            self._fill()
        head = bytes(self.buffer[:end]).decode("latin-1").split("\r\n")
        del self.buffer[: end + len(HEADER_END)]
        status = int(head[0].split(" ", 2)[1])
        headers: dict[str, str] = {}
        for line in head[1:]:
            name, _, value = line.partition(":")
            name = name.strip().lower()
            value = value.strip()
            headers[name] = f"{headers[name]}\n{value}" if name in headers else value
        if method == "HEAD" or status in (204, 304) or 100 <= status < 200:
            body = b""
        elif "chunked" in headers.get("transfer-encoding", "").lower():
            parts = []
            while (size := int(self._read_line().split(b";")[0], 16)) > 0:
                parts.append(self._read_exactly(size))
                self._read_line()
            while self._read_line():  # trailers end with an empty line
                pass
            body = b"".join(parts)
        elif "content-length" in headers:
            body = self._read_exactly(int(headers["content-length"]))
        else:  # no length: the body runs to the end of the connection
            try:
                while True:
                    self._fill()
            except ConnectionClosed:
                pass
            body = bytes(self.buffer)
            self.close()
        return Response(status, headers, body)


# A request maker gets (client index, request number) and returns the request to send.
RequestMaker = Callable[[int, int], Request]


@dataclass
class Sample:
    started_ns: int
    finished_ns: int
    ok: bool
    status: int
    size: int
    page_cache: str = ""  # the X-Page-Cache header: "hit", "miss" or ""
    # Open loop only: started_ns is the time the request was due, sent_ns when it went out.
    sent_ns: int = 0


@dataclass
class LoadResult:
    samples: list[Sample]
    window_start_ns: int
    window_end_ns: int
    errors: list[str]
    client_cpu_seconds: float
    reconnects: int
    offered_rps: float | None = None  # open loop: the rate asked for; None for closed loop
    unsent: int = 0  # open loop: due requests dropped because the client fell too far behind

    @property
    def duration_s(self) -> float:
        return (self.window_end_ns - self.window_start_ns) / 1e9


def run_load(
    host: str,
    port: int,
    make_request: RequestMaker,
    *,
    connections: int,
    duration: float,
    warmup: float,
    expect: Callable[[Response], bool],
    timeout: float = 120.0,
    rate: float | None = None,
) -> LoadResult:
    """Drive `connections` clients for warmup + duration seconds and collect the samples.

    Without `rate` the loop is closed: each connection sends its next request as soon as the
    last answer is in. With `rate` (requests per second, all connections together) it is open:
    requests are due every 1/rate seconds from the start of the warm-up, and each one's latency
    is measured from the time it was due. A due request waits for a free connection, and that
    wait counts. Due requests the client cannot send before the window's end plus `duration`
    (at least 1 s) are dropped and counted as `unsent`.
    """
    if rate is not None and not rate > 0:
        raise ValueError(f"rate must be positive, not {rate!r}")
    started = time.perf_counter_ns()
    window_start = started + int(warmup * 1e9)
    window_end = window_start + int(duration * 1e9)
    per_client: list[list[Sample]] = [[] for _ in range(connections)]
    errors: list[str] = []
    reconnects = [0] * connections
    lock = threading.Lock()

    def exchange(connection: Connection, request: Request) -> tuple[bool, int, int, str, str]:
        """Send one request: ok, status, size, X-Page-Cache and the problem, if any."""
        problem = ""
        try:
            response = connection.request(request)
            ok, status, size = expect(response), response.status, len(response.body)
            cached = response.headers.get("x-page-cache", "")
            if not ok:
                problem = f"{request.method} {request.path}: HTTP {status}"
        except (OSError, ConnectionClosed, ValueError, IndexError) as error:
            connection.close()
            ok, status, size, cached = False, 0, 0, ""
            problem = f"{request.method} {request.path}: {type(error).__name__}: {error}"
        return ok, status, size, cached, problem

    def failed(status: int, problem: str) -> None:
        with lock:
            if len(errors) < 20:
                errors.append(problem)
        if status == 0:
            time.sleep(0.01)  # a dead server must not turn this into a busy loop

    def client(index: int) -> None:
        connection = Connection(host, port, timeout)
        samples = per_client[index]
        number = 0
        try:
            while True:
                request = make_request(index, number)
                number += 1
                begin = time.perf_counter_ns()
                if begin >= window_end:
                    break
                ok, status, size, cached, problem = exchange(connection, request)
                samples.append(Sample(begin, time.perf_counter_ns(), ok, status, size, cached))
                if not ok:
                    failed(status, problem)
        finally:
            reconnects[index] = connection.reconnects
            connection.close()

    interval_ns = 1e9 / rate if rate is not None else 0.0
    give_up = window_end + int(max(duration, 1.0) * 1e9)
    next_slot = [0]
    unsent = [0]

    def paced_client(index: int) -> None:
        connection = Connection(host, port, timeout)
        samples = per_client[index]
        number = 0
        try:
            while True:
                with lock:
                    slot = next_slot[0]
                    next_slot[0] += 1
                due = started + int(slot * interval_ns)
                if due >= window_end:
                    break
                if time.perf_counter_ns() >= give_up:
                    with lock:
                        unsent[0] += 1
                    continue
                request = make_request(index, number)
                number += 1
                wait = due - time.perf_counter_ns()
                if wait > 0:
                    time.sleep(wait / 1e9)
                sent = time.perf_counter_ns()
                ok, status, size, cached, problem = exchange(connection, request)
                samples.append(
                    Sample(due, time.perf_counter_ns(), ok, status, size, cached, sent_ns=sent)
                )
                if not ok:
                    failed(status, problem)
        finally:
            reconnects[index] = connection.reconnects
            connection.close()

    previous_interval = sys.getswitchinterval()
    # The default 5 ms interval would let one busy client thread delay another's timing.
    sys.setswitchinterval(0.0005)
    cpu_before = time.process_time()
    threads = [
        threading.Thread(
            target=client if rate is None else paced_client,
            args=(n,),
            daemon=True,
            name=f"bench-client-{n}",
        )
        for n in range(connections)
    ]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(previous_interval)
    return LoadResult(
        samples=[sample for samples in per_client for sample in samples],
        window_start_ns=window_start,
        window_end_ns=window_end,
        errors=errors,
        client_cpu_seconds=round(time.process_time() - cpu_before, 2),
        reconnects=sum(reconnects),
        offered_rps=rate,
        unsent=unsent[0],
    )


def percentile(sorted_values: list[float], fraction: float) -> float | None:
    """Linear interpolation between the closest ranks, as numpy's default does."""
    if not sorted_values:
        return None
    position = (len(sorted_values) - 1) * fraction
    lower = int(position)
    upper = min(lower + 1, len(sorted_values) - 1)
    weight = position - lower
    return sorted_values[lower] * (1 - weight) + sorted_values[upper] * weight


def summarise(result: LoadResult) -> dict:
    """Requests per second, latency percentiles in milliseconds, errors and status codes.

    When no request started inside the window (every connection was still waiting for its
    first answer), the latencies are those of the warm-up requests, and the summary says so.
    An open-loop result adds the offered rate (`rps` is the achieved one), the due requests
    never sent, and how late the client sent them (`send_delay_*`: waiting for a free
    connection or for the client's own thread, already part of the latency).
    """
    start, end = result.window_start_ns, result.window_end_ns
    in_window = [s for s in result.samples if s.started_ns >= start]
    measured = in_window or result.samples
    completed_in_window = sum(1 for s in result.samples if start <= s.finished_ns <= end)
    latencies = sorted((s.finished_ns - s.started_ns) / 1e6 for s in measured)
    answered = [s for s in measured if s.ok]

    def ms(value):
        return None if value is None else round(value, 2)

    summary = {
        "requests": len(in_window),
        "warmup_requests": len(result.samples) - len(in_window),
        "latency_includes_warmup": not in_window and bool(result.samples),
        "rps": round(completed_in_window / result.duration_s, 1) if result.duration_s else 0.0,
        "p50_ms": ms(percentile(latencies, 0.50)),
        "p95_ms": ms(percentile(latencies, 0.95)),
        "p99_ms": ms(percentile(latencies, 0.99)),
        "mean_ms": ms(sum(latencies) / len(latencies)) if latencies else None,
        "max_ms": ms(latencies[-1]) if latencies else None,
        "errors": sum(1 for s in result.samples if not s.ok),
        "status_counts": {
            str(code): n for code, n in sorted(Counter(s.status for s in measured).items())
        },
        "page_cache": dict(Counter(s.page_cache for s in measured if s.page_cache)),
        "mean_response_bytes": round(sum(s.size for s in answered) / len(answered))
        if answered
        else 0,
        "error_samples": result.errors[:5],
        "client_cpu_seconds": result.client_cpu_seconds,
        "reconnects": result.reconnects,
    }
    if result.offered_rps is None:
        return summary
    delays = sorted((s.sent_ns - s.started_ns) / 1e6 for s in measured)
    return {
        "offered_rps": round(result.offered_rps, 2),
        **summary,
        "unsent": result.unsent,
        "send_delay_p50_ms": ms(percentile(delays, 0.50)),
        "send_delay_p95_ms": ms(percentile(delays, 0.95)),
        "send_delay_max_ms": ms(delays[-1]) if delays else None,
    }


CSRF_INPUT = re.compile(rb'name="csrfmiddlewaretoken" value="([^"]+)"')


def csrf_token_in(body: bytes) -> str | None:
    match = CSRF_INPUT.search(body)
    return match.group(1).decode() if match else None
