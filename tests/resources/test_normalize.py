"""Tests for the duplicate-detection URL normaliser."""

import pytest

from resources.normalize import (
    MAX_URL_LENGTH,
    InvalidURL,
    fold_name,
    normalize_url,
    project_key,
    trigram_similarity,
    trigrams,
)

YT = "https://youtube.com/watch?v=dQw4w9WgXcQ"
ARXIV = "https://arxiv.org/abs/2106.09685"

CANONICAL_FORMS = [
    # Coursera
    (
        "https://www.coursera.org/learn/machine-learning-engineering-for-production-mlops"
        "?utm_source=gg&utm_medium=sem&utm_campaign=mlops",
        "https://coursera.org/learn/machine-learning-engineering-for-production-mlops",
    ),
    (
        "https://www.coursera.org/specializations/machine-learning-introduction/",
        "https://coursera.org/specializations/machine-learning-introduction",
    ),
    (
        "https://www.coursera.org/learn/machine-learning?authMode=signup&action=enroll",
        "https://coursera.org/learn/machine-learning?action=enroll&authMode=signup",
    ),
    # GitHub
    ("https://github.com/mlflow/mlflow", "https://github.com/mlflow/mlflow"),
    ("http://www.github.com/mlflow/mlflow/", "https://github.com/mlflow/mlflow"),
    ("https://github.com/mlflow/mlflow#readme", "https://github.com/mlflow/mlflow"),
    (
        "https://github.com/GokuMohandas/Made-With-ML?utm_source=chatgpt.com",
        "https://github.com/GokuMohandas/Made-With-ML",
    ),
    (
        "https://github.com/iterative/dvc/blob/main/README.rst?plain=1#L10",
        "https://github.com/iterative/dvc/blob/main/README.rst?plain=1",
    ),
    (
        "https://github.com/kubeflow/pipelines?tab=readme-ov-file",
        "https://github.com/kubeflow/pipelines?tab=readme-ov-file",
    ),
    # Documentation sites
    (
        "https://docs.docker.com/get-started/?utm_source=newsletter&utm_medium=email",
        "https://docs.docker.com/get-started",
    ),
    (
        "https://kubernetes.io/docs/concepts/overview/?ref=blog.example.com",
        "https://kubernetes.io/docs/concepts/overview",
    ),
    (
        "https://docs.python.org/3/library/urllib.parse.html#urllib.parse.urlsplit",
        "https://docs.python.org/3/library/urllib.parse.html",
    ),
    ("https://mlflow.org/docs/latest/index.html", "https://mlflow.org/docs/latest"),
    ("https://scikit-learn.org/stable/index.html", "https://scikit-learn.org/stable"),
    ("https://www.php.net/manual/en/index.php", "https://php.net/manual/en"),
    ("https://example.com/docs/index.htm", "https://example.com/docs"),
    (
        "https://www.tensorflow.org/tfx/guide?hl=en&gclid=Cj0KCQiA",
        "https://tensorflow.org/tfx/guide?hl=en",
    ),
    ("HTTPS://DOCS.Ray.IO/en/latest/serve/", "https://docs.ray.io/en/latest/serve"),
    (
        "https://martinfowler.com/articles/cd4ml.html?fbclid=IwAR0abcdef",
        "https://martinfowler.com/articles/cd4ml.html",
    ),
    (
        "https://neptune.ai/blog/mlops?mc_cid=3f1a&mc_eid=9b2c&_hsenc=p2AN&_hsmi=123",
        "https://neptune.ai/blog/mlops",
    ),
    # Medium
    (
        "https://medium.com/@mlengineer/mlops-in-practice-1a2b3c4d5e6f?utm_source=twitter",
        "https://medium.com/@mlengineer/mlops-in-practice-1a2b3c4d5e6f",
    ),
    (
        "https://medium.com/@mlengineer/mlops-in-practice-1a2b3c4d5e6f?sk=0f9e8d7c",
        "https://medium.com/@mlengineer/mlops-in-practice-1a2b3c4d5e6f?sk=0f9e8d7c",
    ),
    # arXiv
    ("https://arxiv.org/abs/2106.09685", ARXIV),
    ("https://arxiv.org/abs/2106.09685v2", ARXIV),
    ("http://arxiv.org/pdf/2106.09685", ARXIV),
    ("https://arxiv.org/pdf/2106.09685v1.pdf", ARXIV),
    ("https://arxiv.org/html/2106.09685v2/", ARXIV),
    ("https://export.arxiv.org/abs/2106.09685", ARXIV),
    ("https://www.arxiv.org/abs/1706.03762?context=cs", "https://arxiv.org/abs/1706.03762"),
    ("https://arxiv.org/abs/0704.0001v3", "https://arxiv.org/abs/0704.0001"),
    ("https://arxiv.org/abs/cs/0112017v1", "https://arxiv.org/abs/cs/0112017"),
    ("https://arxiv.org/pdf/hep-th/9901001.pdf", "https://arxiv.org/abs/hep-th/9901001"),
    ("https://arxiv.org/list/cs.LG/recent", "https://arxiv.org/list/cs.LG/recent"),
    # YouTube
    ("https://www.youtube.com/watch?v=dQw4w9WgXcQ", YT),
    ("https://youtube.com/watch?feature=shared&v=dQw4w9WgXcQ&t=42s", YT),
    ("https://m.youtube.com/watch?v=dQw4w9WgXcQ&list=PL590L5WQmH8fJ54F369BLDSqIwcs-TCfs", YT),
    ("https://youtu.be/dQw4w9WgXcQ?si=AbCdEf123", YT),
    ("https://youtu.be/dQw4w9WgXcQ?t=30", YT),
    ("https://www.youtube.com/shorts/dQw4w9WgXcQ", YT),
    ("https://www.youtube.com/embed/dQw4w9WgXcQ?start=10", YT),
    ("https://www.youtube.com/live/dQw4w9WgXcQ?feature=share", YT),
    ("https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ", YT),
    (
        "https://www.youtube.com/playlist?list=PLkDaE6sCZn6GMoA0wbpJLi3t34Gd8l0aK&si=xyz",
        "https://youtube.com/playlist?list=PLkDaE6sCZn6GMoA0wbpJLi3t34Gd8l0aK",
    ),
    (
        "https://www.youtube.com/embed/videoseries?list=PLkDaE6sCZn6GMoA0wbpJLi3t34Gd8l0aK",
        "https://youtube.com/embed/videoseries?list=PLkDaE6sCZn6GMoA0wbpJLi3t34Gd8l0aK",
    ),
    (
        "https://music.youtube.com/watch?v=dQw4w9WgXcQ&si=abc",
        "https://music.youtube.com/watch?v=dQw4w9WgXcQ",
    ),
    (
        "https://www.youtube.com/@MLOpsCommunity/videos",
        "https://youtube.com/@MLOpsCommunity/videos",
    ),
    # Hosts, ports and user info
    ("https://example.com/", "https://example.com"),
    ("https://example.com.", "https://example.com"),
    ("https://www.www.example.com", "https://example.com"),
    ("https://www.com", "https://www.com"),
    ("https://bücher.example/", "https://xn--bcher-kva.example"),
    ("https://example.com:443/a", "https://example.com/a"),
    ("http://example.com:80/a", "https://example.com/a"),
    ("https://example.com:8443/a", "https://example.com:8443/a"),
    ("http://93.184.215.14/x", "https://93.184.215.14/x"),
    ("https://[2606:4700:4700::1111]:8080/x", "https://[2606:4700:4700::1111]:8080/x"),
    ("  https://example.com/page \n", "https://example.com/page"),
    # Paths and percent-encoding
    ("https://en.wikipedia.org/wiki/MLOps", "https://en.wikipedia.org/wiki/MLOps"),
    ("https://de.wikipedia.org/wiki/Käse", "https://de.wikipedia.org/wiki/K%C3%A4se"),
    ("https://de.wikipedia.org/wiki/K%c3%a4se", "https://de.wikipedia.org/wiki/K%C3%A4se"),
    ("https://example.com/%7Euser/%41bc", "https://example.com/~user/Abc"),
    ("https://example.com/100%", "https://example.com/100%25"),
    ("https://example.com//docs///guide//", "https://example.com/docs/guide"),
    ("https://example.com/docs/./guide/../api/", "https://example.com/docs/api"),
    ("https://example.com/myindex.html", "https://example.com/myindex.html"),
    # Query strings
    ("https://example.com/search?q=ml+ops&page=2", "https://example.com/search?page=2&q=ml+ops"),
    ("https://example.com/search?q=ml%20ops", "https://example.com/search?q=ml+ops"),
    ("https://example.com/?b=2&a=1&a=0", "https://example.com?a=0&a=1&b=2"),
    ("https://example.com/page?draft&id=", "https://example.com/page?draft=&id="),
    ("https://example.com/page?q=café", "https://example.com/page?q=caf%C3%A9"),
    ("https://example.com/page?", "https://example.com/page"),
]

SAME_RESOURCE_GROUPS = [
    pytest.param(
        [
            "https://www.coursera.org/learn/mlops-fundamentals",
            "http://coursera.org/learn/mlops-fundamentals/",
            "https://www.coursera.org/learn/mlops-fundamentals?utm_source=linkedin&utm_medium=social",
            "https://WWW.Coursera.org/learn/mlops-fundamentals#syllabus",
        ],
        id="coursera",
    ),
    pytest.param(
        [
            "https://github.com/zenml-io/zenml",
            "https://www.github.com/zenml-io/zenml/",
            "http://github.com:80/zenml-io/zenml#readme",
            "https://github.com//zenml-io//zenml?ref=producthunt",
        ],
        id="github",
    ),
    pytest.param(
        [
            "https://arxiv.org/abs/1706.03762",
            "https://arxiv.org/abs/1706.03762v7",
            "https://arxiv.org/pdf/1706.03762",
            "https://arxiv.org/pdf/1706.03762v5.pdf",
            "https://arxiv.org/html/1706.03762v7",
            "http://export.arxiv.org/abs/1706.03762v1",
        ],
        id="arxiv",
    ),
    pytest.param(
        [
            "https://www.youtube.com/watch?v=9bZkp7q19f0",
            "https://youtu.be/9bZkp7q19f0",
            "https://m.youtube.com/watch?v=9bZkp7q19f0&feature=youtu.be",
            "https://www.youtube.com/shorts/9bZkp7q19f0",
            "https://www.youtube.com/embed/9bZkp7q19f0",
            "https://www.youtube.com/live/9bZkp7q19f0",
            "https://www.youtube-nocookie.com/embed/9bZkp7q19f0",
        ],
        id="youtube",
    ),
    pytest.param(
        [
            "https://bücher.example/katalog",
            "https://BÜCHER.example/katalog",
            "https://xn--bcher-kva.example/katalog",
        ],
        id="idna-host",
    ),
    pytest.param(
        ["https://ｅｘａｍｐｌｅ.com/", "https://example.com"],
        id="fullwidth-host",
    ),
    pytest.param(
        [
            "https://example.com/guide?b=2&a=1",
            "https://example.com/guide?a=1&b=2&utm_source=x",
            "https://example.com/guide/?a=1&gclid=abc&b=2#part-2",
        ],
        id="query-order",
    ),
    pytest.param(
        [
            "https://example.com/docs/index.html",
            "https://example.com/docs/",
            "https://example.com/docs",
            "https://example.com/docs/index.php",
        ],
        id="index-files",
    ),
]

DISTINCT_PAIRS = [
    pytest.param("https://example.com/a", "https://example.com/b", id="different-paths"),
    pytest.param(
        "https://github.com/mlflow/mlflow", "https://github.com/MLflow/mlflow", id="path-case"
    ),
    pytest.param(
        "https://example.com/item?id=1", "https://example.com/item?id=2", id="query-values"
    ),
    pytest.param("https://example.com/item?id=1", "https://example.com/item", id="query-present"),
    pytest.param(
        "https://music.youtube.com/watch?v=dQw4w9WgXcQ",
        "https://www.youtube.com/watch?v=dQw4w9WgXcQ",
        id="youtube-music",
    ),
    pytest.param("https://youtu.be/dQw4w9WgXcQ", "https://youtu.be/9bZkp7q19f0", id="videos"),
    pytest.param(
        "https://arxiv.org/abs/2106.09685", "https://arxiv.org/abs/2106.09686", id="papers"
    ),
    pytest.param("https://example.com/a%2Fb", "https://example.com/a/b", id="encoded-slash"),
    pytest.param("https://example.com/s?q=a%2Bb", "https://example.com/s?q=a+b", id="encoded-plus"),
    pytest.param("https://example.com:8080", "https://example.com", id="custom-port"),
    pytest.param("https://docs.example.com", "https://example.com", id="subdomain"),
]

REJECTED = [
    pytest.param("javascript:alert(1)", id="javascript"),
    pytest.param("JAVASCRIPT:alert(document.cookie)", id="javascript-upper"),
    pytest.param("  javascript:alert(1)", id="javascript-padded"),
    pytest.param("data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==", id="data"),
    pytest.param("ftp://ftp.example.com/file.txt", id="ftp"),
    pytest.param("mailto:someone@example.com", id="mailto"),
    pytest.param("file:///etc/passwd", id="file"),
    pytest.param("//example.com", id="scheme-relative"),
    pytest.param("example.com", id="no-scheme"),
    pytest.param("www.example.com/page", id="no-scheme-www"),
    pytest.param("https://", id="no-host"),
    pytest.param("http://", id="no-host-http"),
    pytest.param("https:///path", id="empty-host"),
    pytest.param("http:example.com", id="no-slashes"),
    pytest.param("http://exa mple.com", id="space-in-host"),
    pytest.param("https://example.com/a b", id="space-in-path"),
    pytest.param("https://example.com/a\tb", id="tab"),
    pytest.param("https://example.com/\x00", id="nul"),
    pytest.param("https://example.com/\x1b[31m", id="escape-char"),
    pytest.param("https://exa\u200bmple.com", id="zero-width-space"),
    pytest.param("https://example.com\\@evil.com", id="backslash"),
    pytest.param("https://example..com", id="empty-label"),
    pytest.param("https://exa%6Dple.com", id="escaped-host"),
    pytest.param("https://example.com:99999", id="port-out-of-range"),
    pytest.param("https://example.com:http", id="port-not-a-number"),
    pytest.param("https://[::1", id="unclosed-ipv6"),
    pytest.param("https://example.com/" + "a" * 5000, id="too-long"),
    pytest.param("", id="empty"),
    pytest.param("   ", id="blank"),
]

DECEPTIVE = [
    pytest.param("https://good.example.org@evil.example.org/", id="user-info"),
    pytest.param("https://user:token@github.com/iterative/dvc.git", id="user-and-password"),
    pytest.param("https://@example.com/", id="empty-user-info"),
    pytest.param("https://\u0430pple.com/", id="cyrillic-a-in-latin-name"),
    pytest.param("https://xn--pple-43d.com/", id="cyrillic-a-in-punycode"),
    pytest.param("https://g\u03bfogle.com/", id="greek-omicron-in-latin-name"),
    pytest.param("https://exa\u034fmple.com/", id="combining-grapheme-joiner"),
    pytest.param("https://exa\ufe0fmple.com/", id="variation-selector"),
    pytest.param("https://exa\u3164mple.com/", id="hangul-filler"),
    pytest.param("https://exa\u2060mple.com/", id="word-joiner"),
    pytest.param("https://exa\u00admple.com/", id="soft-hyphen"),
]

PRIVATE_HOSTS = [
    "http://localhost/",
    "http://LOCALHOST:8000/admin/",
    "http://localhost./",
    "http://app.localhost/",
    "http://127.0.0.1/",
    "http://127.1/",
    "http://2130706433/",
    "http://0x7f.0.0.1/",
    "http://0177.0.0.1/",
    "http://0.0.0.0/",
    "http://10.0.0.5/",
    "http://172.16.3.4/",
    "http://192.168.1.1/router",
    "http://169.254.169.254/latest/meta-data/",
    "http://100.64.0.1/",
    "http://224.0.0.1/",
    "http://255.255.255.255/",
    "http://[::1]/",
    "http://[::]/",
    "http://[fe80::1]/",
    "http://[fc00::1]/",
    "http://[::ffff:127.0.0.1]/",
    "http://[64:ff9b::a00:1]/",
    "http://[2002:7f00:1::]/",
]

VALID_EXAMPLES = sorted(
    {url for url, _ in CANONICAL_FORMS}
    | {url for param in SAME_RESOURCE_GROUPS for url in param.values[0]}
    | {url for param in DISTINCT_PAIRS for url in param.values}
)


@pytest.mark.parametrize(("url", "expected"), CANONICAL_FORMS)
def test_real_world_links_normalise_to_canonical_form(url: str, expected: str) -> None:
    assert normalize_url(url) == expected


@pytest.mark.parametrize("urls", SAME_RESOURCE_GROUPS)
def test_variants_of_the_same_resource_collapse(urls: list[str]) -> None:
    assert len({normalize_url(url) for url in urls}) == 1


@pytest.mark.parametrize(("first", "second"), DISTINCT_PAIRS)
def test_different_resources_stay_distinct(first: str, second: str) -> None:
    assert normalize_url(first) != normalize_url(second)


@pytest.mark.parametrize("url", REJECTED)
def test_unsafe_or_malformed_links_are_rejected(url: str) -> None:
    with pytest.raises(InvalidURL):
        normalize_url(url)


@pytest.mark.parametrize("url", DECEPTIVE)
def test_links_that_hide_their_real_host_are_refused(url: str) -> None:
    with pytest.raises(InvalidURL):
        normalize_url(url)


@pytest.mark.parametrize("url", PRIVATE_HOSTS)
def test_loopback_private_and_special_addresses_are_refused(url: str) -> None:
    with pytest.raises(InvalidURL, match="public web site"):
        normalize_url(url)


@pytest.mark.parametrize("url", PRIVATE_HOSTS)
def test_private_addresses_are_accepted_when_asked_for(url: str) -> None:
    assert normalize_url(url, allow_private_hosts=True).startswith("https://")


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://8.8.8.8/dns", "https://8.8.8.8/dns"),
        ("https://[2606:4700::1111]/", "https://[2606:4700::1111]"),
        (
            "https://\u044f\u043d\u0434\u0435\u043a\u0441.\u0440\u0444/",
            "https://xn--d1acpjx3f.xn--p1ai",
        ),
        ("https://m\u00fcnchen.de/", "https://xn--mnchen-3ya.de"),
        ("https://xn--mnchen-3ya.de/", "https://xn--mnchen-3ya.de"),
        (
            "https://\u65e5\u672c\u8a9e\u306e\u30b5\u30a4\u30c8.jp/",
            "https://xn--u9jxf0b3ds196acvb2w6i.jp",
        ),
        ("https://v1.example.com/", "https://v1.example.com"),
        ("https://1password.com/", "https://1password.com"),
    ],
)
def test_public_addresses_and_single_script_names_are_accepted(url: str, expected: str) -> None:
    assert normalize_url(url) == expected


@pytest.mark.parametrize("url", VALID_EXAMPLES)
def test_normalisation_is_idempotent(url: str) -> None:
    once = normalize_url(url)
    assert normalize_url(once) == once


@pytest.mark.parametrize("url", VALID_EXAMPLES)
def test_valid_links_are_accepted_as_http_urls(url: str) -> None:
    assert normalize_url(url).startswith(("http://", "https://"))


@pytest.mark.parametrize(
    "url", ["javascript:alert(1)", "JAVASCRIPT:alert(1)", "ftp://example.com", "data:,hi"]
)
def test_non_http_schemes_get_a_clear_message(url: str) -> None:
    with pytest.raises(InvalidURL, match=r"^Only http and https links are accepted\.$"):
        normalize_url(url)


@pytest.mark.parametrize("url", [param.values[0] for param in REJECTED])
def test_rejection_messages_are_user_facing_sentences(url: str) -> None:
    with pytest.raises(InvalidURL) as excinfo:
        normalize_url(url)
    message = str(excinfo.value)
    assert message[0].isupper()
    assert message.endswith(".")


def test_invalid_url_is_a_value_error() -> None:
    assert issubclass(InvalidURL, ValueError)


def test_tracking_parameters_are_dropped() -> None:
    tracking = (
        "utm_source=a&utm_medium=b&utm_campaign=c&utm_term=d&utm_content=e&UTM_Id=f"
        "&gclid=1&fbclid=2&ref=3&si=4&mc_cid=5&mc_eid=6&igshid=7&yclid=8&msclkid=9"
        "&_hsenc=10&_hsmi=11&ref_src=12"
    )
    assert normalize_url(f"https://example.com/post?{tracking}&page=2") == (
        "https://example.com/post?page=2"
    )


def test_scheme_is_always_https() -> None:
    assert normalize_url("http://example.com/a") == normalize_url("https://example.com/a")
    assert normalize_url("HTTP://example.com/a").startswith("https://")


def test_links_at_the_length_limit_are_accepted() -> None:
    url = "https://example.com/" + "a" * (MAX_URL_LENGTH - len("https://example.com/"))
    assert normalize_url(url) == url
    with pytest.raises(InvalidURL, match="at most"):
        normalize_url(url + "a")


def test_length_limit_applies_to_the_normalised_link() -> None:
    # Each "é" grows to six characters once percent-encoded.
    url = "https://example.com/" + "é" * 400
    with pytest.raises(InvalidURL, match="at most"):
        normalize_url(url)


@pytest.mark.parametrize(
    ("url", "key"),
    [
        ("https://github.com/mlflow/mlflow", "code:mlflow"),
        ("https://mlflow.org/", "home:mlflow"),
        ("https://www.kubeflow.org/", "home:kubeflow"),
        ("https://airflow.apache.org/", "home:airflow"),
        ("https://docs.vllm.ai/", "home:vllm"),
        ("https://pypi.org/project/BentoML/", "package:bentoml"),
        ("https://feast.readthedocs.io/en/latest/", "home:feast"),
        ("https://github.com/feast-dev/feast/tree/master/examples", ""),  # a page, not the home
        ("https://medium.com/", ""),  # a shared host is nobody's project
        ("https://apache.org/", ""),
        ("https://mlsys.stanford.edu/", ""),  # a department's site
        ("https://example.com/post/1", ""),
    ],
)
def test_the_project_a_link_is_the_home_of(url, key):
    assert project_key(url) == key


def test_names_fold_case_accents_and_punctuation():
    assert fold_name("ML-Flow") == fold_name("mlflow") == "mlflow"
    assert fold_name("Café  Étude!") == "cafeetude"


def test_trigram_similarity_follows_pg_trgm():
    assert trigram_similarity(trigrams("Feature Store"), trigrams("feature store")) == 1.0
    assert trigram_similarity(trigrams("MLflow"), trigrams("Kubeflow")) < 0.3
