from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from resources.models import Flag, Resource, Status, Vote
from tests.factories import (
    ResourceFactory,
    SectionFactory,
    UserFactory,
    VerifiedUserFactory,
    VoteFactory,
)

pytestmark = pytest.mark.django_db

SUGGEST = "/resources/suggest/"


@pytest.fixture
def section():
    return SectionFactory(slug="courses", title="Courses")


@pytest.fixture
def member(client):
    user = VerifiedUserFactory()
    user.date_joined = timezone.now() - timedelta(days=30)
    user.save()
    client.force_login(user)
    return user


def form_data(target, **overrides) -> dict:
    data = {
        "title": "MLflow in an afternoon",
        "url": "https://example.org/mlflow-afternoon",
        "resource_type": "article",
        "section": target.pk,
        "tags": "mlflow, experiment-tracking",
        "cost": "free",
        "level": "beginner",
        "provider": "Example Org",
        "description": "A **walkthrough**.",
    }
    return {**data, **overrides}


# Permissions


@pytest.mark.parametrize(
    "method,url",
    [
        ("get", SUGGEST),
        ("post", SUGGEST),
        ("get", "/resources/mine/"),
        ("post", "/resources/{pk}/vote/"),
        ("get", "/resources/{pk}/flag/"),
        ("post", "/resources/{pk}/flag/"),
        ("post", "/resources/{pk}/withdraw/"),
        ("get", "/resources/{pk}/edit/"),
    ],
)
def test_anonymous_users_are_sent_to_sign_in(client, method, url):
    resource = ResourceFactory()
    response = getattr(client, method)(url.format(pk=resource.pk))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")


@pytest.mark.parametrize(
    "method,url",
    [
        ("get", SUGGEST),
        ("post", SUGGEST),
        ("post", "/resources/{pk}/vote/"),
        ("get", "/resources/{pk}/flag/"),
    ],
)
def test_unverified_users_are_told_to_verify(client, method, url):
    client.force_login(UserFactory())
    resource = ResourceFactory()
    response = getattr(client, method)(url.format(pk=resource.pk), {"value": "up"})
    assert response.status_code == 403
    assert "verify" in response.content.decode().lower()
    assert not Vote.objects.exists()


def test_state_changes_refuse_get(client, member):
    resource = ResourceFactory(submitted_by=member, status=Status.PENDING)
    assert client.get(f"/resources/{resource.pk}/vote/").status_code == 405


def test_a_get_to_withdraw_only_asks(client, member):
    resource = ResourceFactory(submitted_by=member, status=Status.PENDING)
    assert client.get(f"/resources/{resource.pk}/withdraw/").status_code == 200
    assert Resource.objects.filter(pk=resource.pk).exists()


def test_state_changes_need_a_csrf_token(member, section):
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(member)
    resource = ResourceFactory()
    assert strict.post(f"/resources/{resource.pk}/vote/", {"value": "up"}).status_code == 403
    assert strict.post(SUGGEST, form_data(section)).status_code == 403
    assert not Vote.objects.exists()
    assert not Resource.objects.filter(title="MLflow in an afternoon").exists()


# Suggesting


def test_suggest_page_offers_existing_tags(client, member, section):
    ResourceFactory(tags=["kubernetes"])
    html = client.get(SUGGEST).content.decode()
    assert 'name="url"' in html
    assert "kubernetes" in html


def test_a_valid_suggestion_is_saved_pending_and_listed_in_my_suggestions(client, member, section):
    response = client.post(SUGGEST, form_data(section))
    assert response.status_code == 302
    assert response["Location"] == "/resources/mine/"
    resource = Resource.objects.get(title="MLflow in an afternoon")
    assert resource.status == Status.PENDING
    assert sorted(tag.name for tag in resource.tags.all()) == ["experiment-tracking", "mlflow"]
    mine = client.get("/resources/mine/").content.decode()
    assert "MLflow in an afternoon" in mine
    assert "Pending review" in mine
    assert "MLflow in an afternoon" not in client.get(section.get_absolute_url()).content.decode()


@pytest.mark.parametrize(
    "field,value,message",
    [
        ("url", "javascript:alert(1)", "Only http and https links are accepted"),
        ("url", "ftp://example.com/file", "Only http and https links are accepted"),
        ("url", "example.com", "http"),
        ("url", "", "This field is required"),
        ("title", "", "This field is required"),
        ("title", "ab", "at least 3"),
        ("title", "x" * 201, "at most 200"),
        ("resource_type", "spaceship", "Select a valid choice"),
        ("section", "999999", "Select a valid choice"),
        ("cost", "priceless", "Select a valid choice"),
        ("level", "guru", "Select a valid choice"),
        ("tags", ", ".join(f"t{n}" for n in range(6)), "at most 5 tags"),
        ("tags", "c<script>", "not a valid tag"),
        ("description", "x" * 2001, "at most 2000"),
        ("title", "bad\x00null", "Null characters are not allowed"),
        ("url", "https://good.example.org@evil.example.org/", "user name or password"),
        ("url", "http://localhost:8000/admin/", "public web site"),
        ("url", "http://169.254.169.254/latest/meta-data/", "public web site"),
        ("url", "https://\u0430pple.com/", "mixes alphabets"),
    ],
)
def test_every_bad_input_gives_a_field_error(client, member, section, field, value, message):
    response = client.post(SUGGEST, form_data(section, **{field: value}))
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert field in errors, errors
    assert any(message in error for error in errors[field]), errors[field]
    assert not Resource.objects.exists()


def test_a_duplicate_links_to_the_existing_public_resource(client, member, section):
    existing = ResourceFactory(url="https://example.org/mlflow-afternoon", section=section)
    response = client.post(
        SUGGEST, form_data(section, url="https://www.example.org/mlflow-afternoon/?utm_source=x")
    )
    html = response.content.decode()
    assert "already on the roadmap" in html
    assert f'href="{existing.get_absolute_url()}"' in html
    assert Resource.objects.count() == 1


def test_a_duplicate_of_a_rejected_suggestion_is_stated_plainly(client, member, section):
    hidden = ResourceFactory(url="https://example.org/mlflow-afternoon", status=Status.REJECTED)
    html = client.post(SUGGEST, form_data(section)).content.decode()
    assert "was suggested before and was not accepted" in html
    assert hidden.get_absolute_url() not in html


def test_hitting_the_new_account_limit_gives_a_message_not_an_error(client, section):
    newcomer = VerifiedUserFactory()
    client.force_login(newcomer)
    for number in range(3):
        ResourceFactory(submitted_by=newcomer, status=Status.PENDING, url=f"https://e.com/{number}")
    response = client.post(SUGGEST, form_data(section))
    assert response.status_code == 200
    assert "at most 3 suggestions waiting" in response.content.decode()


def test_the_submitter_edits_and_withdraws_a_pending_suggestion(client, member, section):
    resource = ResourceFactory(submitted_by=member, status=Status.PENDING, section=section)
    edit_url = f"/resources/{resource.pk}/edit/"
    assert resource.title in client.get(edit_url).content.decode()
    response = client.post(edit_url, form_data(section, title="A sharper title"))
    assert response.status_code == 302
    resource.refresh_from_db()
    assert resource.title == "A sharper title"
    client.post(f"/resources/{resource.pk}/withdraw/")
    assert not Resource.objects.filter(pk=resource.pk).exists()


def test_nobody_else_may_edit_or_withdraw(client, member):
    other = ResourceFactory(submitted_by=UserFactory(), status=Status.PENDING)
    assert client.get(f"/resources/{other.pk}/edit/").status_code == 404
    assert client.post(f"/resources/{other.pk}/withdraw/").status_code == 404
    assert Resource.objects.filter(pk=other.pk).exists()


def test_my_suggestions_shows_only_mine(client, member):
    ResourceFactory(submitted_by=member, title="Mine")
    ResourceFactory(submitted_by=UserFactory(), title="Theirs")
    html = client.get("/resources/mine/").content.decode()
    assert "Mine" in html and "Theirs" not in html


def test_submitters_see_their_pending_suggestion_page_but_others_do_not(client, member):
    resource = ResourceFactory(submitted_by=member, status=Status.PENDING)
    assert client.get(resource.get_absolute_url()).status_code == 200
    client.force_login(UserFactory())
    assert client.get(resource.get_absolute_url()).status_code == 404


# Voting


def test_a_vote_without_javascript_redirects_back_to_the_page(client, member):
    resource = ResourceFactory()
    response = client.post(
        f"/resources/{resource.pk}/vote/", {"value": "up", "next": "/sections/x/?sort=new"}
    )
    assert response.status_code == 302
    assert response["Location"] == f"/sections/x/?sort=new#resource-{resource.pk}"
    resource.refresh_from_db()
    assert resource.upvotes == 1


def test_a_vote_never_redirects_to_another_host(client, member):
    resource = ResourceFactory()
    response = client.post(
        f"/resources/{resource.pk}/vote/", {"value": "up", "next": "https://evil.example/"}
    )
    assert response["Location"] == resource.get_absolute_url()


BAD_NEXT_VALUES = [
    "foo",
    "resources",
    "account_logout",
    "\ufffd",  # what Django makes of next=%FF
    "/%FF",
    "//evil.example/",
    "/\\evil.example/",
    "\\\\evil.example/",
    "/\tevil",
    "/%0d%0aSet-Cookie:x",
    "javascript:alert(1)",
]


@pytest.mark.parametrize("next_value", BAD_NEXT_VALUES)
def test_a_vote_with_a_next_that_is_not_a_local_path_returns_to_the_resource(
    client, member, next_value
):
    resource = ResourceFactory()
    response = client.post(f"/resources/{resource.pk}/vote/", {"value": "up", "next": next_value})
    assert response.status_code == 302
    assert response["Location"] == resource.get_absolute_url()


def test_a_vote_with_next_percent_ff_in_the_raw_body_returns_to_the_resource(client, member):
    resource = ResourceFactory()
    response = client.post(
        f"/resources/{resource.pk}/vote/",
        "value=up&next=%FF",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 302
    assert response["Location"] == resource.get_absolute_url()


def test_a_vote_with_htmx_returns_the_updated_widget(client, member):
    resource = ResourceFactory()
    response = client.post(
        f"/resources/{resource.pk}/vote/", {"value": "down"}, HTTP_HX_REQUEST="true"
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert f'id="vote-{resource.pk}"' in html
    assert "<html" not in html
    assert 'class="vote-button vote-down" aria-pressed="true"' in html
    assert ">-1<" in html


def test_a_bad_vote_value_is_a_clear_400(client, member):
    resource = ResourceFactory()
    assert client.post(f"/resources/{resource.pk}/vote/", {"value": "sideways"}).status_code == 400


def test_voting_on_a_pending_resource_is_refused_with_a_message(client, member):
    # Its submitter may see it, so they hear why; anyone else gets a 404
    # (tests/security/test_what_readers_may_see.py).
    resource = ResourceFactory(status=Status.PENDING, submitted_by=member)
    response = client.post(f"/resources/{resource.pk}/vote/", {"value": "up"}, follow=True)
    assert "Only resources on the roadmap can be voted on" in response.content.decode()
    assert not Vote.objects.exists()


def test_cards_show_the_score_and_my_own_vote(client, member, section):
    resource = ResourceFactory(section=section, upvotes=3, downvotes=1)
    VoteFactory(user=member, resource=resource, value=Vote.UP)
    html = client.get(section.get_absolute_url()).content.decode()
    assert 'class="vote-button vote-up" aria-pressed="true"' in html
    assert ">2<" in html


@pytest.mark.parametrize("page", ["section", "/resources/", "/tags/t/"])
def test_anonymous_readers_are_invited_to_sign_in_to_vote_once_a_page(client, section, page):
    ResourceFactory.create_batch(3, section=section, tags=["t"])
    voted = ResourceFactory(section=section, tags=["t"], upvotes=2, downvotes=0)
    url = section.get_absolute_url() if page == "section" else page
    html = client.get(url).content.decode()
    assert html.count("to vote on resources") == 1
    assert "Sign in to vote" not in html
    # No row of zeros: a score shows only where someone has voted.
    assert html.count('class="score-value"') == 1
    assert f'id="vote-{voted.pk}"' in html


def test_members_get_no_sign_in_hint(client, member, section):
    ResourceFactory(section=section)
    assert "to vote on resources" not in client.get(section.get_absolute_url()).content.decode()


def test_section_query_count_is_the_same_for_a_member_with_votes(client, member, section):
    resources = ResourceFactory.create_batch(5, section=section, tags=["a"])
    VoteFactory(user=member, resource=resources[0])

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            client.get(section.get_absolute_url())
        return len(queries)

    small = count()
    for resource in ResourceFactory.create_batch(60, section=section, tags=["b"]):
        VoteFactory(user=member, resource=resource, value=Vote.DOWN)
    assert count() == small


# Flagging


def test_a_verified_reader_flags_a_resource(client, member):
    resource = ResourceFactory()
    response = client.post(f"/resources/{resource.pk}/flag/", {"reason": "broken_link"})
    assert response.status_code == 302
    assert Flag.objects.filter(resource=resource, user=member, reason="broken_link").exists()


def test_flagging_twice_explains_instead_of_failing(client, member):
    resource = ResourceFactory()
    client.post(f"/resources/{resource.pk}/flag/", {"reason": "spam"})
    response = client.post(f"/resources/{resource.pk}/flag/", {"reason": "outdated"})
    assert response.status_code == 200
    assert "already flagged" in response.content.decode()
    assert Flag.objects.count() == 1


@pytest.mark.parametrize(
    "data,field",
    [({"reason": "other", "note": ""}, "note"), ({"reason": "bogus"}, "reason"), ({}, "reason")],
)
def test_bad_flags_give_field_errors(client, member, data, field):
    resource = ResourceFactory()
    response = client.post(f"/resources/{resource.pk}/flag/", data)
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert not Flag.objects.exists()


def test_pending_resources_cannot_be_flagged_through_the_site(client, member):
    resource = ResourceFactory(status=Status.PENDING)
    assert client.get(f"/resources/{resource.pk}/flag/").status_code == 404


def test_someone_elses_pending_link_is_refused_naming_its_title_without_a_link(
    client, member, section
):
    pending = ResourceFactory(
        url="https://example.org/mlflow-afternoon",
        title="MLflow <b>afternoon</b> notes",
        status=Status.PENDING,
        submitted_by=UserFactory(),
    )
    html = client.post(SUGGEST, form_data(section)).content.decode()
    assert "already been suggested as “MLflow &lt;b&gt;afternoon&lt;/b&gt; notes”" in html
    assert pending.get_absolute_url() not in html


def test_the_suggest_form_preselects_no_type_and_no_cost(client, member, section):
    response = client.get(SUGGEST)
    form = response.context["form"]
    html = response.content.decode()
    assert form["resource_type"].value() in (None, "")
    assert form["cost"].value() in (None, "")
    assert '<option value="" selected>Choose a type</option>' in html
    assert '<option value="" selected>Choose what it costs</option>' in html
    data = form_data(section)
    del data["cost"], data["resource_type"]
    errors = client.post(SUGGEST, data).context["form"].errors
    assert set(errors) == {"cost", "resource_type"}


def test_the_suggest_form_offers_no_prose_only_section(client, member):
    SectionFactory(slug="what-is-mlops", title="What is MLOps?")  # prose, no resources
    tools = SectionFactory(slug="tools", title="Tools")
    ResourceFactory(section=tools)
    learning = SectionFactory(slug="learning", title="Learning")
    SectionFactory(slug="new-books", title="New books", parent=learning)  # empty, offered
    html = client.get(SUGGEST).content.decode()
    assert ">Tools</option>" in html and ">Learning</option>" in html
    assert "— New books</option>" in html
    assert "What is MLOps?" not in html


def test_the_suggest_form_offers_no_page_even_one_with_resources_or_sub_sections(client, member):
    # `kind: page` in the content file marks prose (Contributing); the map links it, no step.
    contributing = SectionFactory(slug="contributing", title="Contributing", kind="page")
    ResourceFactory(section=contributing)
    SectionFactory(slug="how-to-review", title="How to review", parent=contributing)
    ResourceFactory(section=SectionFactory(slug="tools", title="Tools"))
    html = client.get(SUGGEST).content.decode()
    assert ">Tools</option>" in html
    assert ">Contributing</option>" not in html
    assert "— How to review</option>" in html  # a step below a page stays on offer


def test_withdrawing_asks_first_and_only_the_confirmation_deletes(client, member, section):
    resource = ResourceFactory(
        submitted_by=member, status=Status.PENDING, section=section, title="Half-baked notes"
    )
    withdraw_url = f"/resources/{resource.pk}/withdraw/"
    mine = client.get("/resources/mine/").content.decode()
    assert f'href="{withdraw_url}"' in mine  # a link to a question, not a button that deletes
    assert f'action="{withdraw_url}"' not in mine
    page = client.get(withdraw_url)
    assert page.status_code == 200
    html = page.content.decode()
    assert "Withdraw this suggestion?" in html and "Half-baked notes" in html
    assert 'name="csrfmiddlewaretoken"' in html
    assert Resource.objects.filter(pk=resource.pk).exists()
    client.post(withdraw_url)
    assert not Resource.objects.filter(pk=resource.pk).exists()


def test_a_reader_who_reported_is_told_when_instead_of_offered_the_form_again(client, member):
    resource = ResourceFactory()
    detail = f"/resources/{resource.pk}/"
    assert "Send the report" in client.get(detail).content.decode()
    client.post(f"/resources/{resource.pk}/flag/", {"reason": "broken_link"})
    for url in (detail, f"/resources/{resource.pk}/flag/"):
        html = client.get(url).content.decode()
        assert "You reported this on" in html
        assert "Send the report" not in html


def test_a_suggestion_of_a_project_on_the_roadmap_is_told_it_looks_like_it(client, member, section):
    mlflow = ResourceFactory(title="MLflow", url="https://mlflow.org/", section=section)
    data = form_data(section, title="MLflow repository", url="https://github.com/mlflow/mlflow")
    page = client.post(SUGGEST, data).content.decode()
    assert f"This looks like #{mlflow.pk} “MLflow” (same project)" in page
    assert not Resource.objects.filter(title="MLflow repository").exists()
    # Saying it is a different resource lets it through, to the moderators.
    response = client.post(SUGGEST, {**data, "not_the_same": "on"})
    assert response.status_code == 302
    assert Resource.objects.get(title="MLflow repository").status == Status.PENDING


def test_a_look_alike_still_waiting_for_review_is_not_named_to_others(client, member, section):
    ResourceFactory(title="Secret plan", url="https://plan.example.net/", status=Status.PENDING)
    response = client.post(SUGGEST, form_data(section, title="Secret Plan!"))
    assert response.status_code == 302
