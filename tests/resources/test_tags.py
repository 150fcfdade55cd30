"""The consolidated tag vocabulary: every way a resource gets tags stores the canonical ones."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from taggit.models import Tag

from resources.models import Resource, Status
from resources.services import create_resource, fold_tags_into_canonical
from resources.tags import ALIASES, CANONICAL_TAGS, TAGS, canonical_tag, canonical_tags
from tests.factories import ResourceFactory, SectionFactory, VerifiedUserFactory
from tests.resources.moderation_factories import SuggestionFactory, make_moderator
from tests.resources.test_views import SUGGEST, form_data


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


@pytest.mark.parametrize(
    "typed,stored",
    [
        ("case-studies", "case-study"),
        ("Case Studies", "case-study"),
        ("case_study", "case-study"),
        ("conferences", "conference"),
        ("serving", "model-serving"),
        ("online-serving", "model-serving"),
        ("Model Serving", "model-serving"),
        ("K8s", "kubernetes"),
        ("finetuning", "fine-tuning"),
        ("fine tuning", "fine-tuning"),
        ("agent", "agents"),
        ("vector databases", "vector-search"),
        ("data labelling", "data-labeling"),
        ("quantisation", "quantization"),
        ("  MLflow!  ", "mlflow"),
        ("hyperparameter optimisation", "hyperparameter-tuning"),
    ],
)
def test_case_punctuation_plurals_and_aliases_fold_into_the_canonical_tag(typed, stored):
    assert canonical_tag(typed) == stored


def test_a_tag_outside_the_vocabulary_is_kept_in_lower_case_with_hyphens():
    assert canonical_tag("Graph Neural_Networks") == "graph-neural-networks"
    assert canonical_tag("has space!") == "has-space"


def test_repeats_and_blanks_are_dropped_in_first_seen_order():
    assert canonical_tags(["Serving", "", "model-serving", "mlflow", " "]) == [
        "model-serving",
        "mlflow",
    ]


def test_every_name_in_the_table_means_one_tag():
    names = [*TAGS, *(alias for aliases in TAGS.values() for alias in aliases)]
    assert len(names) == len(set(names))
    # Names that differ only by hyphens would fold into each other anyway.
    assert len({name.replace("-", "") for name in names}) == len(names)
    assert not set(ALIASES) & set(TAGS)
    assert all(canonical_tag(tag) == tag for tag in CANONICAL_TAGS)


@pytest.mark.django_db
def test_create_resource_stores_canonical_tags_for_the_loader_and_importer():
    resource = create_resource(
        data={
            "title": "Case studies of ML in production",
            "url": "https://example.org/cases",
            "resource_type": "article",
            "section": SectionFactory(),
            "tags": ["Case-Studies", "serving", "case-study"],
        },
        status=Status.APPROVED,
    )
    assert sorted(tag.name for tag in resource.tags.all()) == ["case-study", "model-serving"]


@pytest.mark.django_db
def test_a_suggestion_tagged_case_studies_stores_case_study(client, member, section):
    response = client.post(SUGGEST, form_data(section, tags="case-studies, Conferences"))
    assert response.status_code == 302
    resource = Resource.objects.get(title="MLflow in an afternoon")
    assert sorted(tag.name for tag in resource.tags.all()) == ["case-study", "conference"]


@pytest.mark.django_db
def test_five_spellings_of_one_tag_count_as_one(client, member, section):
    tags = "serving, model-serving, Model Serving, online-serving, model_serving, mlflow"
    response = client.post(SUGGEST, form_data(section, tags=tags))
    assert response.status_code == 302
    resource = Resource.objects.get(title="MLflow in an afternoon")
    assert sorted(tag.name for tag in resource.tags.all()) == ["mlflow", "model-serving"]


@pytest.mark.django_db
def test_editing_a_pending_suggestion_folds_its_tags(client, member, section):
    client.post(SUGGEST, form_data(section))
    resource = Resource.objects.get(title="MLflow in an afternoon")
    response = client.post(
        reverse("resources:edit", args=[resource.pk]), form_data(section, tags="k8s, dvc")
    )
    assert response.status_code == 302
    assert sorted(tag.name for tag in resource.tags.all()) == ["data-versioning", "kubernetes"]


@pytest.mark.django_db
def test_the_suggest_form_offers_the_consolidated_tags_in_a_datalist(client, member, section):
    html = client.get(SUGGEST).content.decode()
    field = re.search(r'<input[^>]*name="tags"[^>]*>', html).group(0)
    datalist_id = re.search(r'list="([^"]+)"', field).group(1)
    datalist = re.search(rf'<datalist id="{datalist_id}">(.*?)</datalist>', html, re.S).group(1)
    offered = re.findall(r'<option value="([^"]+)">', datalist)
    assert offered == list(CANONICAL_TAGS)
    assert "case-study" in offered
    assert "case-studies" not in offered


@pytest.mark.django_db
def test_the_admin_form_folds_tags_when_a_moderator_edits_a_resource(client):
    resource = SuggestionFactory()
    client.force_login(make_moderator())
    response = client.post(
        reverse("admin:resources_resource_change", args=[resource.pk]),
        {
            "title": resource.title,
            "url": resource.url,
            "description": resource.description,
            "resource_type": resource.resource_type,
            "cost": resource.cost,
            "level": resource.level,
            "provider": resource.provider,
            "section": resource.section_id,
            "tags": "Case Studies, serving",
            "flags-TOTAL_FORMS": 0,
            "flags-INITIAL_FORMS": 0,
            "flags-MIN_NUM_FORMS": 0,
            "flags-MAX_NUM_FORMS": 1000,
            "alternate_links-TOTAL_FORMS": 0,
            "alternate_links-INITIAL_FORMS": 0,
            "alternate_links-MIN_NUM_FORMS": 0,
            "alternate_links-MAX_NUM_FORMS": 1000,
        },
    )
    assert response.status_code == 302
    assert sorted(tag.name for tag in resource.tags.all()) == ["case-study", "model-serving"]


@pytest.mark.django_db
def test_stored_alias_tags_merge_into_the_canonical_tag_and_keep_their_resources():
    both = ResourceFactory(tags=["case-studies", "case-study"])
    alias_only = ResourceFactory(tags=["case-studies", "Serving"])
    canonical_only = ResourceFactory(tags=["case-study"])

    merged = fold_tags_into_canonical()

    assert merged == {"case-studies": "case-study", "Serving": "model-serving"}
    assert sorted(Tag.objects.values_list("name", flat=True)) == ["case-study", "model-serving"]
    assert [tag.name for tag in both.tags.all()] == ["case-study"]
    assert sorted(tag.name for tag in alias_only.tags.all()) == ["case-study", "model-serving"]
    assert [tag.name for tag in canonical_only.tags.all()] == ["case-study"]
    assert fold_tags_into_canonical() == {}


@pytest.mark.django_db
def test_an_old_link_to_a_merged_tag_redirects_to_the_canonical_tag(client):
    ResourceFactory(tags=["case-study"])
    response = client.get("/tags/case-studies/?level=beginner")
    assert response.status_code == 301
    assert response["Location"] == "/tags/case-study/?level=beginner"
    assert client.get("/tags/no-such-tag/").status_code == 404


@pytest.mark.django_db
def test_searching_for_another_spelling_of_a_tag_finds_resources_with_the_tag(client):
    ResourceFactory(title="Serving at scale", tags=["model-serving"])
    ResourceFactory(title="Unrelated notes", tags=["git"])
    html = client.get("/resources/?q=serving").content.decode()
    assert "Serving at scale" in html
    html = client.get("/resources/?q=online-serving").content.decode()
    assert "Serving at scale" in html
    assert "Unrelated notes" not in html
