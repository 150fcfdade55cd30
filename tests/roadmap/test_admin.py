"""The section admin: a section never lands inside its own subtree, titles stay plain text."""

import pytest
from django.core.exceptions import ValidationError

from resources.sections import flatten, section_tree
from roadmap.models import Section
from tests.factories import SectionFactory
from tests.resources.moderation_factories import make_superuser

pytestmark = pytest.mark.django_db


@pytest.fixture
def family():
    grandparent = SectionFactory(title="Learning")
    parent = SectionFactory(title="Courses", parent=grandparent)
    child = SectionFactory(title="Video courses", parent=parent)
    return grandparent, parent, child


def change(client, section, **fields):
    data = {
        "parent": section.parent_id or "",
        "position": section.position,
        "slug": section.slug,
        "title": section.title,
        "summary": section.summary,
        "body": section.body,
        "kind": section.kind,
        "stage": section.stage,
        **fields,
    }
    return client.post(f"/admin/roadmap/section/{section.pk}/change/", data)


def test_a_section_cannot_become_the_child_of_its_own_descendant(client, family):
    grandparent, _parent, child = family
    client.force_login(make_superuser())
    response = change(client, grandparent, parent=child.pk)
    assert response.status_code == 200
    assert "cannot be placed inside itself" in response.content.decode()
    grandparent.refresh_from_db()
    assert grandparent.parent_id is None


def test_the_model_refuses_a_cycle_and_accepts_a_move_elsewhere(family):
    grandparent, parent, child = family
    grandparent.parent = child
    with pytest.raises(ValidationError, match="inside itself"):
        grandparent.full_clean()
    other = SectionFactory()
    child.parent = other
    child.full_clean()


def test_a_cycle_written_past_the_admin_still_shows_every_section_on_the_map(client, family):
    grandparent, _parent, child = family
    Section.objects.filter(pk=grandparent.pk).update(parent=child)
    html = client.get("/").content.decode()
    assert "Learning" in html
    assert "Courses" in html  # the map shows two levels
    assert [node.section.title for node in flatten(section_tree())] == [
        "Learning",
        "Courses",
        "Video courses",
    ]


def test_direction_overrides_and_zero_width_characters_leave_admin_section_titles(client):
    section = SectionFactory()
    client.force_login(make_superuser())
    response = change(client, section, title="Safe\u202egnp.exe\u200b", summary="\u2066x\u2069")
    assert response.status_code == 302
    section.refresh_from_db()
    assert section.title == "Safegnp.exe"
    assert section.summary == "x"
