"""The Jinja2 environment the resource cards use keeps Django's URLs and escapes."""

import pytest
from django.urls import NoReverseMatch, reverse, set_script_prefix

from config import jinja2


@pytest.mark.parametrize(
    ("name", "args"),
    [
        ("resources:detail", [7]),
        ("resources:vote", [123456]),
        ("progress:set", [42]),
        ("tag", ["feature-stores"]),
        ("tag", ["ml_ops-2"]),
        ("account_login", []),
    ],
)
def test_url_gives_what_reverse_gives(name, args):
    assert jinja2.url(name, *args) == reverse(name, args=args)


def test_url_refuses_what_reverse_refuses():
    for name, args in [("resources:detail", [-1]), ("resources:detail", ["x"]), ("tag", ["a b"])]:
        with pytest.raises(NoReverseMatch):
            reverse(name, args=args)
        with pytest.raises(NoReverseMatch):
            jinja2.url(name, *args)


def test_url_follows_the_script_prefix():
    try:
        set_script_prefix("/roadmap/")
        assert jinja2.url("resources:detail", 3) == "/roadmap/resources/3/"
    finally:
        set_script_prefix("/")
    assert jinja2.url("resources:detail", 3) == "/resources/3/"


def test_the_environment_escapes():
    env = jinja2.environment()
    assert env.from_string("{{ x }}").render(x="<b>") == "&lt;b&gt;"
