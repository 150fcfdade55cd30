"""Canonical forms of http(s) links, used to spot duplicate resource suggestions, and the one
place that decides what may be a resource link at all."""

import ipaddress
import re
import socket
import string
import unicodedata
from urllib.parse import SplitResult, parse_qsl, quote, urlencode, urlsplit

from django.conf import settings

MAX_URL_LENGTH = 2000

TRACKING_PARAMETERS = frozenset(
    {
        "_ga",
        "_gl",
        "_hsenc",
        "_hsmi",
        "dclid",
        "fbclid",
        "gbraid",
        "gclid",
        "igshid",
        "mc_cid",
        "mc_eid",
        "mkt_tok",
        "msclkid",
        "ref",
        "ref_src",
        "si",
        "twclid",
        "wbraid",
        "yclid",
    }
)

_INDEX_FILES = frozenset({"index.html", "index.htm", "index.php"})
_UNRESERVED = frozenset(string.ascii_letters + string.digits + "-._~")
# RFC 3986 pchar plus "/": these keep their meaning raw, so they are never escaped or decoded.
_PATH_SAFE = "/!$&'()*+,;=:@%"
_ESCAPE = re.compile(r"%([0-9A-Fa-f]{2})")
_STRAY_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")
_FORBIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp", "Zs"})
_HOST = re.compile(r"[a-z0-9_-]+(?:\.[a-z0-9_-]+)*")
# The last label of a host that browsers and resolvers read as an IPv4 address in any of its
# forms (127.1, 0x7f.0.0.1, 2130706433).
_NUMERIC_LABEL = re.compile(r"0x[0-9a-f]*|[0-9]+")
# Letters that show as blank space; nameprep keeps them, so they are looked for by name.
_INVISIBLE_LETTERS = frozenset("\u115f\u1160\u3164\uffa0\u2800")
# Scripts that are written together in one word (Japanese, Korean, Chinese with Latin).
_SCRIPT_MIXES = (
    frozenset({"LATIN", "CJK", "HIRAGANA", "KATAKANA", "KATAKANA-HIRAGANA"}),
    frozenset({"LATIN", "CJK", "HANGUL"}),
    frozenset({"LATIN", "CJK", "BOPOMOFO"}),
)
# IPv6 addresses that carry an IPv4 address (6to4, Teredo) or lie outside global unicast
# (NAT64's 64:ff9b::/96, IPv4-compatible ::a.b.c.d, old site-local fec0::/10) could reach a
# private IPv4 network through a gateway; only plain global unicast is public.
_GLOBAL_UNICAST = ipaddress.ip_network("2000::/3")
_TUNNELS = (ipaddress.ip_network("2002::/16"), ipaddress.ip_network("2001::/32"))

_ARXIV_HOSTS = frozenset({"arxiv.org", "export.arxiv.org"})
_ARXIV_VIEWS = frozenset({"abs", "pdf", "html"})
_ARXIV_ID = re.compile(
    r"(\d{4}\.\d{4,5}|[a-z]+(?:-[a-z]+)?(?:\.[A-Za-z-]+)?/\d{7})(?:v\d+)?(?:\.pdf)?"
)
_YOUTUBE_HOSTS = frozenset({"youtube.com", "m.youtube.com"})
_YOUTUBE_VIDEO_VIEWS = frozenset({"shorts", "embed", "live"})
_YOUTUBE_ID = re.compile(r"[A-Za-z0-9_-]{11}")

EMPTY = "Please enter a link."
TOO_LONG = f"Links must be at most {MAX_URL_LENGTH} characters long."
FORBIDDEN_CHARACTERS = "Links must not contain spaces, control characters or backslashes."
NO_SCHEME = "Links must start with http:// or https://."
BAD_SCHEME = "Only http and https links are accepted."
NO_HOST = "Links must include a domain name, such as https://example.com."
BAD_HOST = "The domain name in this link is not valid."
BAD_PORT = "The port number in this link is not valid."
MALFORMED = "This link is not a valid web address."
USER_INFO = "Links must not contain a user name or password before the domain name."
PRIVATE_HOST = "Links must point at a public web site, not a local or private address."
DECEPTIVE_HOST = (
    "The domain name in this link mixes alphabets or holds invisible characters, "
    "which is how look-alike addresses are made."
)


class InvalidURL(ValueError):
    """Raised when a link is not an acceptable http(s) URL; the message is user-facing."""


def is_public_address(address: str) -> bool:
    """True for an IP address on the public internet: not loopback, private, link-local,
    multicast, reserved, or an IPv6 form that can carry one of those."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        elif ip not in _GLOBAL_UNICAST or any(ip in tunnel for tunnel in _TUNNELS):
            return False
    return ip.is_global and not ip.is_multicast


def normalize_url(url: str, *, allow_private_hosts: bool | None = None) -> str:
    """Return the canonical https form of an http(s) link, or raise InvalidURL.

    Loopback, private and special addresses and localhost are refused unless
    `allow_private_hosts` (by default DJANGO_LINKCHECK_ALLOW_PRIVATE, for a private
    deployment's own links); no name is looked up."""
    if allow_private_hosts is None:
        allow_private_hosts = settings.LINKCHECK_ALLOW_PRIVATE_ADDRESSES
    parts = _split(url)
    host = _normalize_host(parts.hostname)
    if not allow_private_hosts and _is_private_host(host):
        raise InvalidURL(PRIVATE_HOST)
    authority = host + _port_suffix(parts)
    segments = _path_segments(parts.path)
    params = parse_qsl(parts.query, keep_blank_values=True, errors="surrogateescape")

    if authority in _ARXIV_HOSTS and (paper := _arxiv_id(segments)):
        return f"https://arxiv.org/abs/{paper}"
    if video := _youtube_video_id(authority, segments, params):
        return f"https://youtube.com/watch?v={video}"

    path = "/" + "/".join(segments) if segments else ""
    kept = sorted((key, value) for key, value in params if not _is_tracking(key))
    # surrogateescape round-trips escapes that are not valid UTF-8 byte for byte.
    query = urlencode(kept, errors="surrogateescape")
    result = f"https://{authority}{path}" + (f"?{query}" if query else "")
    # Escaping can lengthen a link; checking the result keeps normalisation idempotent.
    if len(result) > MAX_URL_LENGTH:
        raise InvalidURL(TOO_LONG)
    return result


def _split(url: str) -> SplitResult:
    """Strip and validate the raw link and split it into its components."""
    if not isinstance(url, str) or not url.strip():
        raise InvalidURL(EMPTY)
    url = url.strip()
    if len(url) > MAX_URL_LENGTH:
        raise InvalidURL(TOO_LONG)
    # Browsers read "\" as "/", so a backslash could hide the real host from urlsplit.
    if any(ch == "\\" or unicodedata.category(ch) in _FORBIDDEN_CATEGORIES for ch in url):
        raise InvalidURL(FORBIDDEN_CHARACTERS)
    try:
        parts = urlsplit(url)
    except ValueError:
        raise InvalidURL(MALFORMED) from None
    if not parts.scheme:
        raise InvalidURL(NO_SCHEME)
    if parts.scheme not in ("http", "https"):
        raise InvalidURL(BAD_SCHEME)
    # https://good.example.org@evil.example.org/ goes to evil.example.org.
    if "@" in parts.netloc:
        raise InvalidURL(USER_INFO)
    return parts


def _normalize_host(hostname: str | None) -> str:
    """Return the lower-case ASCII host without "www.", or raise InvalidURL."""
    if not hostname:
        raise InvalidURL(NO_HOST)
    if "%" in hostname:
        raise InvalidURL(BAD_HOST)
    if ":" in hostname:  # IPv6 literal; urlsplit has already removed the brackets.
        try:
            return f"[{ipaddress.IPv6Address(hostname).compressed}]"
        except ValueError:
            raise InvalidURL(BAD_HOST) from None
    try:
        host = hostname.removesuffix(".").encode("idna").decode("ascii")
    except UnicodeError:
        raise InvalidURL(BAD_HOST) from None
    if not _HOST.fullmatch(host):
        raise InvalidURL(BAD_HOST)
    if _is_deceptive(hostname.removesuffix("."), host):
        raise InvalidURL(DECEPTIVE_HOST)
    host = _canonical_ipv4(host)
    # Strip repeatedly so the result is stable, but never strip a host down to a bare TLD.
    while host.startswith("www.") and host.count(".") > 1:
        host = host.removeprefix("www.")
    return host


def _is_deceptive(written: str, encoded: str) -> bool:
    """True if the host as written is not what it encodes to (IDNA quietly drops invisible
    characters and folds look-alikes), holds a blank letter, or mixes scripts in a label."""
    try:
        shown = encoded.encode("ascii").decode("idna")
    except UnicodeError:
        return True
    if written.isascii() and not encoded.startswith("xn--") and ".xn--" not in encoded:
        return False
    # Full-width letters fold to the very name they show (NFKC); anything else that IDNA
    # changes, such as an invisible joiner it drops, makes the link lie about its host.
    if written != encoded and unicodedata.normalize("NFKC", written).lower() != shown:
        return True
    return any(char in _INVISIBLE_LETTERS for char in shown) or any(
        _mixes_scripts(label) for label in shown.split(".")
    )


def _mixes_scripts(label: str) -> bool:
    scripts = {
        unicodedata.name(char, "UNKNOWN").split()[0]
        for char in label
        if unicodedata.category(char).startswith("L")
    }
    return len(scripts) > 1 and not any(scripts <= mix for mix in _SCRIPT_MIXES)


def _canonical_ipv4(host: str) -> str:
    """Return a host that resolvers read as IPv4 in dotted-quad form; raise InvalidURL for a
    numeric host that is no address."""
    if not _NUMERIC_LABEL.fullmatch(host.rsplit(".", 1)[-1]):
        return host
    try:
        return socket.inet_ntoa(socket.inet_aton(host))
    except OSError:
        raise InvalidURL(BAD_HOST) from None


def _is_private_host(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return not is_public_address(host.strip("[]"))
    except ValueError:  # a name, not an address
        return False


def _port_suffix(parts: SplitResult) -> str:
    """Return ":port" for a non-default port, or an empty string."""
    try:
        port = parts.port
    except ValueError:
        raise InvalidURL(BAD_PORT) from None
    # Both schemes fold into https, so either default port just means "the usual site".
    return "" if port in (None, 80, 443) else f":{port}"


def _path_segments(path: str) -> list[str]:
    """Split a path into normalised segments without empty, dot or trailing index segments."""
    segments: list[str] = []
    for segment in _normalize_escapes(path).split("/"):
        if segment == "..":
            if segments:
                segments.pop()
        elif segment not in ("", "."):
            segments.append(segment)
    while segments and segments[-1] in _INDEX_FILES:
        segments.pop()
    return segments


def _normalize_escapes(path: str) -> str:
    """Decode escaped unreserved characters, upper-case other escapes and escape the rest."""
    path = _STRAY_PERCENT.sub("%25", path)
    path = _ESCAPE.sub(_decode_unreserved, path)
    return quote(path, safe=_PATH_SAFE)


def _decode_unreserved(match: re.Match[str]) -> str:
    """Return the decoded character if it is unreserved, else the upper-case escape."""
    char = chr(int(match[1], 16))
    return char if char in _UNRESERVED else f"%{match[1].upper()}"


def _is_tracking(key: str) -> bool:
    """Return True for query parameters that only track where a visitor came from."""
    key = key.lower()
    return key.startswith("utm_") or key in TRACKING_PARAMETERS


def _arxiv_id(segments: list[str]) -> str | None:
    """Return the version-less paper ID of an arXiv abs/pdf/html path, or None."""
    if len(segments) < 2 or segments[0] not in _ARXIV_VIEWS:
        return None
    match = _ARXIV_ID.fullmatch("/".join(segments[1:]))
    return match[1] if match else None


def _youtube_video_id(
    authority: str, segments: list[str], params: list[tuple[str, str]]
) -> str | None:
    """Return the video ID of a YouTube video link, or None."""
    if authority == "youtu.be" and len(segments) == 1:
        video_id = segments[0]
    elif authority in _YOUTUBE_HOSTS and segments == ["watch"]:
        video_id = next((value for key, value in params if key == "v"), "")
    elif authority in _YOUTUBE_HOSTS and len(segments) == 2:
        video_id = segments[1] if segments[0] in _YOUTUBE_VIDEO_VIEWS else ""
    elif authority == "youtube-nocookie.com" and len(segments) == 2:
        video_id = segments[1] if segments[0] == "embed" else ""
    else:
        return None
    # "videoseries" is the 11-character placeholder that playlist embeds use, not a video.
    if video_id == "videoseries" or not _YOUTUBE_ID.fullmatch(video_id):
        return None
    return video_id


# The same project under another address ------------------------------------------------------

_FORGE_HOSTS = frozenset({"github.com", "gitlab.com", "codeberg.org", "bitbucket.org"})
_PACKAGE_HOSTS = frozenset({"pypi.org", "pypi.python.org"})
# Host labels that say nothing about the project: www.mlflow.org, docs.vllm.ai.
_PLAIN_LABELS = frozenset({"www", "docs", "doc", "documentation", "en", "wiki", "site", "web"})
# Hosts where many projects live: their own name is nobody's project.
_SHARED_HOSTS = frozenset(
    {
        "medium.com",
        "towardsdatascience.com",
        "youtube.com",
        "arxiv.org",
        "google.com",
        "amazon.com",
        "microsoft.com",
        "apache.org",
        "readthedocs.io",
        "github.io",
        "substack.com",
        "wordpress.com",
        "blogspot.com",
        "dev.to",
        "huggingface.co",
        "kaggle.com",
        "coursera.org",
        "udemy.com",
        "oreilly.com",
        "manning.com",
    }
)
_HOMEPAGE_PATHS = frozenset(
    {"", "/", "/docs", "/docs/", "/en/latest", "/en/latest/", "/en/stable/"}
)
_FOLD = re.compile(r"[\W_]+")
MIN_KEY_LENGTH = 3
# Where a project lives: its code, its package, its homepage. Two homes of different kinds
# with one name are one project; two of the same kind are not (alice/tool and bob/tool).
PROJECT_KINDS = ("code", "package", "home")
# Hosts under which projects have sites of their own: airflow.apache.org is Airflow's.
_UMBRELLA_HOSTS = frozenset({"apache.org", "github.io", "gitlab.io", "readthedocs.io"})


def fold_name(text: str) -> str:
    """A name with case, accents, spaces and punctuation folded away: "Feast-Dev" is "feastdev"."""
    text = unicodedata.normalize("NFKD", text or "").casefold()
    return _FOLD.sub("", "".join(char for char in text if not unicodedata.combining(char)))[:200]


def project_key(url: str) -> str:
    """ "kind:name" of the project a link is the home of, or "" when it is not a project's home:
    github.com/mlflow/mlflow gives "code:mlflow", pypi.org/project/mlflow "package:mlflow",
    mlflow.org and mlflow.readthedocs.io "home:mlflow"; an article on a shared host gives ""."""
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").removeprefix("www.")
    except ValueError:
        return ""
    segments = [segment for segment in parts.path.split("/") if segment]
    name, kind = "", "home"
    if host in _FORGE_HOSTS:
        if len(segments) == 2:
            name, kind = segments[1].removesuffix(".git"), "code"
    elif host in _PACKAGE_HOSTS:
        if len(segments) >= 2 and segments[0] in ("project", "pypi"):
            name, kind = segments[1], "package"
    elif host.endswith((".github.io", ".readthedocs.io", ".gitlab.io")):
        owner = host.split(".")[0]
        if host.endswith(".readthedocs.io") or not segments:
            name = owner
        elif len(segments) == 1:  # a repository's pages, unless the repository is the site's
            generic = segments[0].casefold() in ("website", "site", "docs", "blog", "www")
            name = owner if generic else segments[0]
    elif parts.path in _HOMEPAGE_PATHS and not parts.query:
        labels = [label for label in host.split(".") if label not in _PLAIN_LABELS]
        # mlflow.org and airflow.apache.org are projects' homes; medium.com, apache.org and
        # mlsys.stanford.edu (a department's site) are not.
        umbrella = ".".join(labels[1:]) in _UMBRELLA_HOSTS
        if (len(labels) == 2 or (len(labels) == 3 and umbrella)) and (
            ".".join(labels) not in _SHARED_HOSTS
        ):
            name = labels[0]
    key = fold_name(name)[:90]
    return f"{kind}:{key}" if len(key) >= MIN_KEY_LENGTH else ""


def same_project_keys(key: str) -> list[str]:
    """The keys of the same project's other homes: "code:x" -> "package:x", "home:x"."""
    kind, _, name = key.partition(":")
    return [f"{other}:{name}" for other in PROJECT_KINDS if other != kind] if name else []


def trigrams(text: str) -> frozenset[str]:
    """pg_trgm's trigrams of a text: each word lower-cased, padded with two spaces in front
    and one behind, cut into threes."""
    grams = set()
    for word in re.findall(r"[^\W_]+", (text or "").casefold()):
        padded = f"  {word} "
        grams.update(padded[index : index + 3] for index in range(len(padded) - 2))
    return frozenset(grams)


def trigram_similarity(first: frozenset[str], second: frozenset[str]) -> float:
    """pg_trgm's similarity(): shared trigrams over all trigrams of both."""
    if not first or not second:
        return 0.0
    shared = len(first & second)
    return shared / (len(first) + len(second) - shared)
