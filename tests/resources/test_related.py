"""Related resources from hand-made vote patterns whose neighbours are known."""

import io

import pytest
from django.core.management import call_command

from resources.models import (
    Progress,
    ProgressState,
    RelatedBasis,
    RelatedResource,
    Status,
    Vote,
)
from resources.related import recompute_related
from resources.selectors import readers_went_on_to, related_resources
from tests.factories import ResourceFactory, SectionFactory, UserFactory, VoteFactory

pytestmark = pytest.mark.django_db


def read(readers, *resources, value=Vote.UP):
    for reader in readers:
        for resource in resources:
            VoteFactory(user=reader, resource=resource, value=value)


def neighbours(resource, basis=None) -> list:
    rows = RelatedResource.objects.filter(resource=resource).order_by("rank")
    if basis:
        rows = rows.filter(basis=basis)
    return [row.related for row in rows]


@pytest.fixture
def readers():
    return UserFactory.create_batch(10)


def test_the_resource_read_by_exactly_the_same_readers_ranks_above_a_popular_one(readers):
    section = SectionFactory()
    x, twin, popular = ResourceFactory.create_batch(3, section=section)
    read(readers[:3], x, twin)
    read(readers, popular)  # everyone: shares all three of x's readers, and seven more

    recompute_related()

    assert neighbours(x, RelatedBasis.READERS) == [twin, popular]
    twin_row = RelatedResource.objects.get(resource=x, related=twin)
    assert twin_row.score == pytest.approx(1.0)
    assert twin_row.shared_readers == 3
    assert RelatedResource.objects.get(resource=x, related=popular).score == pytest.approx(
        3 / (3 * 10) ** 0.5
    )


def test_fewer_shared_readers_than_the_minimum_do_not_make_neighbours(readers):
    x, y = ResourceFactory.create_batch(2, section=SectionFactory())
    read(readers[:2], x, y)

    recompute_related(min_shared=3)

    assert neighbours(x, RelatedBasis.READERS) == []


def test_finished_resources_count_as_read_and_down_votes_do_not(readers):
    x, finished, disliked = ResourceFactory.create_batch(3, section=SectionFactory())
    read(readers[:3], x)
    for reader in readers[:3]:
        Progress.objects.create(user=reader, resource=finished, state=ProgressState.DONE)
        Progress.objects.create(user=reader, resource=disliked, state=ProgressState.SAVED)
    read(readers[:3], disliked, value=Vote.DOWN)

    recompute_related()

    assert neighbours(x, RelatedBasis.READERS) == [finished]


@pytest.mark.parametrize("status", [Status.PENDING, Status.REJECTED, Status.ARCHIVED])
def test_resources_off_the_roadmap_are_never_neighbours(readers, status):
    section = SectionFactory()
    x, hidden = ResourceFactory.create_batch(2, section=section)
    read(readers[:4], x, hidden)
    hidden.status = status
    hidden.save()

    recompute_related()

    assert hidden not in neighbours(x)
    assert not RelatedResource.objects.filter(resource=hidden).exists()
    assert not RelatedResource.objects.filter(resource=x, related=x).exists()


def test_a_resource_without_readers_falls_back_to_its_section_sharing_most_tags_first():
    section = SectionFactory()
    lonely = ResourceFactory(section=section, tags=["feast", "serving"])
    one_tag = ResourceFactory(section=section, tags=["feast"], wilson_score=0.9)
    two_tags = ResourceFactory(section=section, tags=["feast", "serving"], wilson_score=0.1)
    untagged = ResourceFactory(section=section, wilson_score=0.5)
    ResourceFactory(section=SectionFactory(), tags=["feast", "serving"])  # another section

    recompute_related(neighbours=3)

    assert neighbours(lonely) == [two_tags, one_tag, untagged]
    assert set(RelatedResource.objects.filter(resource=lonely).values_list("basis", flat=True)) == {
        RelatedBasis.TOPIC
    }


def test_reader_neighbours_come_first_and_the_section_fills_the_rest(readers):
    section = SectionFactory()
    x, co_read = ResourceFactory.create_batch(2, section=SectionFactory())
    ResourceFactory(section=section)
    same_section = ResourceFactory(section=x.section, tags=[])
    read(readers[:3], x, co_read)

    recompute_related(neighbours=2)

    assert neighbours(x) == [co_read, same_section]


def test_recomputing_replaces_the_old_neighbours(readers):
    x, y, z = ResourceFactory.create_batch(3, section=SectionFactory())
    read(readers[:3], x, y)
    recompute_related(neighbours=1)
    assert neighbours(x) == [y]

    Vote.objects.filter(resource=y).delete()
    read(readers[3:6], x, z)
    recompute_related(neighbours=1)

    assert neighbours(x) == [z]


def test_the_command_reports_what_it_computed(readers):
    x, y = ResourceFactory.create_batch(2, section=SectionFactory())
    read(readers[:3], x, y)
    out = io.StringIO()

    call_command("compute_related", stdout=out)

    assert "2 resources: 2 neighbours from shared readers" in out.getvalue()


def test_the_page_selector_drops_neighbours_archived_since(readers):
    x, y, z = ResourceFactory.create_batch(3, section=SectionFactory())
    read(readers[:3], x, y, z)
    recompute_related()
    z.status = Status.ARCHIVED
    z.save()

    assert list(related_resources(x)) == [y]


def test_readers_of_a_topic_went_on_to_resources_in_other_topics_strongest_first(readers):
    topic, elsewhere = SectionFactory(), SectionFactory()
    a, b = ResourceFactory.create_batch(2, section=topic)
    strong, weak = ResourceFactory.create_batch(2, section=elsewhere)
    read(readers[:3], a, b, strong)  # close to both of the topic's resources
    read(readers[3:6], a, weak)
    read(readers[6:], weak)  # and popular elsewhere, which the cosine discounts

    recompute_related()
    went_on = list(readers_went_on_to(topic))

    assert went_on == [strong, weak]
    assert went_on[0].from_resources == 2
    assert a not in went_on and b not in went_on


def test_readers_went_on_to_is_one_query(readers, django_assert_num_queries):
    topic = SectionFactory()
    a = ResourceFactory(section=topic)
    others = ResourceFactory.create_batch(4, section=SectionFactory())
    read(readers[:3], a, *others)
    recompute_related()

    with django_assert_num_queries(1):
        went_on = list(readers_went_on_to(topic))
        assert all(resource.section.title for resource in went_on)
    assert len(went_on) == 4


def test_a_signed_in_readers_topic_page_shows_where_readers_went_on_to_after_a_recount(
    client, readers, settings, django_capture_on_commit_callbacks
):
    """Where "readers of this topic also went on to" is one fragment for every signed-in
    reader, kept with the pages: a recount of the related resources empties it with them."""
    from tests.factories import VerifiedUserFactory

    settings.PAGE_CACHE_SECONDS = 60
    topic = SectionFactory(title="Monitoring")
    a = ResourceFactory(section=topic)
    later = ResourceFactory(section=SectionFactory(), title="Where readers went next")
    client.force_login(VerifiedUserFactory())
    assert "also went on to" not in client.get(topic.get_absolute_url()).content.decode()
    read(readers[:3], a, later)
    assert "also went on to" not in client.get(topic.get_absolute_url()).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        recompute_related()
    page = client.get(topic.get_absolute_url()).content.decode()
    assert "Readers of this topic also went on to" in page and "Where readers went next" in page
    client.force_login(VerifiedUserFactory())  # another reader gets the same fragment
    assert "Where readers went next" in client.get(topic.get_absolute_url()).content.decode()
