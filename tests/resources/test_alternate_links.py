"""Alternate links (issue 12's last piece): a moderator keeps an import's "same as #N" line as
another address of resource #N; it is then a duplicate everywhere and listed on #N's page."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.db import IntegrityError, transaction
from django.urls import reverse

from resources.models import ImportBatch, Resource, ResourceLink, Status
from resources.moderation import ModerationError, keep_alternate_link
from resources.normalize import normalize_url
from resources.services import find_duplicates
from tests.factories import ResourceFactory, SectionFactory, UserFactory, VerifiedUserFactory
from tests.queries import app_queries
from tests.resources.moderation_factories import make_moderator
from tests.resources.test_views import SUGGEST, form_data

pytestmark = pytest.mark.django_db

LIST = """# Awesome MLOps

## Feature stores

- [Feast](https://feast.dev/) - An open-source feature store.
- [Hopsworks](https://www.hopsworks.ai/) - A feature store.
"""


def add_link(resource, url, **fields) -> ResourceLink:
    return ResourceLink.objects.create(
        resource=resource, url=url, normalized_url=normalize_url(url), **fields
    )


@pytest.fixture
def feast():
    section = SectionFactory(slug="feature-stores", title="Feature stores")
    return ResourceFactory(title="Feast", url="https://github.com/feast-dev/feast", section=section)


def import_list(tmp_path, text: str = LIST) -> ImportBatch:
    path = tmp_path / "awesome.md"
    path.write_text(text)
    call_command("import_markdown", str(path), stdout=StringIO(), stderr=StringIO())
    return ImportBatch.objects.latest("pk")


def same_as_line(batch: ImportBatch, resource: Resource) -> dict:
    return next(row for row in batch.report if row.get("same_as") == resource.pk)


def keep_url(batch: ImportBatch) -> str:
    return reverse("admin:resources_importbatch_keep_link", args=[batch.pk])


# The model


def test_an_alternate_address_is_unique_across_resources(feast):
    add_link(feast, "https://feast.dev/")
    with pytest.raises(IntegrityError), transaction.atomic():
        add_link(ResourceFactory(), "https://www.feast.dev/?utm_source=x")


def test_an_alternate_link_cannot_be_another_resources_own_link(tmp_path, feast):
    batch = import_list(tmp_path)
    other = ResourceFactory(url="https://example.org/other")
    batch.report[0]["url"] = other.url
    batch.save()
    with pytest.raises(ModerationError, match=f"already the link of #{other.pk}"):
        keep_alternate_link(batch=batch, line=batch.report[0]["line"], moderator=UserFactory())
    assert not ResourceLink.objects.exists()


# Duplicates through an alternate link


def test_find_duplicates_finds_own_and_alternate_links_in_one_query(
    feast, django_assert_num_queries
):
    add_link(feast, "https://feast.dev/")
    other = ResourceFactory(url="https://example.org/other")
    add_link(other, "https://mirror.example.org/other")
    with django_assert_num_queries(1):
        found = find_duplicates(
            [normalize_url("https://feast.dev/"), other.normalized_url, "https://nowhere.example"]
        )
    assert found == {normalize_url("https://feast.dev/"): feast, other.normalized_url: other}


def test_suggesting_an_alternate_address_says_it_is_already_on_the_roadmap(client, feast):
    member = VerifiedUserFactory()
    member.date_joined = member.date_joined.replace(year=2020)
    member.save()
    client.force_login(member)
    add_link(feast, "https://example.org/mlflow-afternoon")
    html = client.post(SUGGEST, form_data(feast.section)).content.decode()
    assert "already on the roadmap" in html
    assert f'href="{feast.get_absolute_url()}"' in html
    assert Resource.objects.count() == 1


def test_importing_an_alternate_address_reports_same_as_its_resource(tmp_path, feast):
    add_link(feast, "https://mirror.example.org/feature-guide")
    batch = import_list(
        tmp_path,
        "## Feature stores\n\n- [A guide to stores](https://mirror.example.org/feature-guide/)\n",
    )
    assert (batch.created, batch.duplicates) == (0, 1)
    row = same_as_line(batch, feast)
    assert "same link" in row["reason"]


# The admin action


def test_a_moderator_keeps_a_same_as_line_as_an_alternate_link_once(client, tmp_path, feast):
    batch = import_list(tmp_path)
    row = same_as_line(batch, feast)
    assert row["url"] == "https://feast.dev/"
    moderator = make_moderator()
    client.force_login(moderator)
    report = client.get(reverse("admin:resources_importbatch_change", args=[batch.pk]))
    html = report.content.decode()
    assert f'formaction="{keep_url(batch)}"' in html
    assert f"Keep as alternate link of #{feast.pk}" in html

    first = client.post(keep_url(batch), {"line": row["line"]}, follow=True).content.decode()
    assert f"Kept https://feast.dev/ as an alternate link of #{feast.pk}." in first
    assert f"(kept as an alternate link of #{feast.pk})" in first
    link = ResourceLink.objects.get()
    assert (link.resource, link.added_by, link.import_batch, link.source_line) == (
        feast,
        moderator,
        batch,
        row["line"],
    )
    second = client.post(keep_url(batch), {"line": row["line"]}, follow=True).content.decode()
    assert "was already kept" in second and "nothing changed" in second
    assert ResourceLink.objects.count() == 1


def test_staff_without_the_change_permission_cannot_keep_a_link(client, tmp_path, feast):
    batch = import_list(tmp_path)
    client.force_login(UserFactory(is_staff=True))
    response = client.post(keep_url(batch), {"line": same_as_line(batch, feast)["line"]})
    assert response.status_code == 403
    assert not ResourceLink.objects.exists()


def test_a_get_keeps_nothing(client, tmp_path, feast):
    batch = import_list(tmp_path)
    client.force_login(make_moderator())
    response = client.get(keep_url(batch), {"line": same_as_line(batch, feast)["line"]})
    assert response.status_code == 405
    assert not ResourceLink.objects.exists()


@pytest.mark.parametrize("line", ["", "abc", "99999"])
def test_a_line_that_is_not_a_same_as_line_gets_a_message(client, tmp_path, feast, line):
    batch = import_list(tmp_path)
    client.force_login(make_moderator())
    response = client.post(keep_url(batch), {"line": line}, follow=True)
    assert response.status_code == 200
    assert "error" in response.content.decode()
    assert not ResourceLink.objects.exists()


def test_the_resource_admin_lists_alternate_links_and_removes_them(client, feast):
    add_link(feast, "https://feast.dev/", label="Feast homepage")
    client.force_login(make_moderator())
    url = reverse("admin:resources_resource_change", args=[feast.pk])
    response = client.get(url)
    html = response.content.decode()
    assert "alternate links (also at)" in html.lower()
    assert "https://feast.dev/" in html
    # Post the change form back as drawn, with the alternate link's Delete box ticked.
    form = response.context["adminform"].form
    data = {
        name: value
        for name, value in form.initial.items()
        if name in form.fields and value is not None
    }
    data["tags"] = ""
    for formset in response.context["inline_admin_formsets"]:
        management = formset.formset.management_form
        data.update({management.add_prefix(k): v for k, v in management.initial.items()})
        for inline in formset.formset.forms:
            data.update(
                {inline.add_prefix(k): v for k, v in inline.initial.items() if v is not None}
            )
    prefix = response.context["inline_admin_formsets"][0].formset.prefix
    data[f"{prefix}-0-id"] = ResourceLink.objects.get().pk
    data[f"{prefix}-0-resource"] = feast.pk
    data[f"{prefix}-0-DELETE"] = "on"
    response = client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert not ResourceLink.objects.exists()


# The resource page


DETAIL_QUERIES = 5  # an anonymous reader's resource page: 4 before alternate links, +1 prefetch


def detail_queries(client, resource) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        response = client.get(resource.get_absolute_url())
    assert response.status_code == 200
    return len(app_queries(captured))


def test_the_resource_page_lists_alternate_links_with_a_flat_query_count(client, feast):
    without = detail_queries(client, feast)
    assert without == DETAIL_QUERIES
    assert "Also at:" not in client.get(feast.get_absolute_url()).content.decode()
    for number in range(3):
        add_link(feast, f"https://mirror{number}.example.org/feast")
    assert detail_queries(client, feast) == without == DETAIL_QUERIES
    html = client.get(feast.get_absolute_url()).content.decode()
    assert "Also at:" in html
    for number in range(3):
        assert f'href="https://mirror{number}.example.org/feast" rel="nofollow noopener"' in html


def test_a_resource_that_is_not_approved_lists_no_alternate_links(client, feast):
    submitter = VerifiedUserFactory()
    pending = ResourceFactory(status=Status.PENDING, approved_at=None, submitted_by=submitter)
    add_link(pending, "https://mirror.example.org/pending")
    client.force_login(submitter)
    html = client.get(pending.get_absolute_url()).content.decode()
    assert "mirror.example.org" not in html


def test_a_same_link_line_offers_no_alternate_link(client, tmp_path, feast):
    batch = import_list(
        tmp_path, "## Feature stores\n\n- [Feast](https://github.com/feast-dev/feast/)\n"
    )
    row = same_as_line(batch, feast)
    assert "same link" in row["reason"] and "url" not in row
    client.force_login(make_moderator())
    html = client.get(reverse("admin:resources_importbatch_change", args=[batch.pk])).content
    assert b"Keep as alternate link" not in html
