"""The explorer's filters and sort orders, shared by the HTML explorer and the JSON API."""

import re
from functools import cached_property
from typing import NamedTuple
from urllib.parse import urlencode

import django_filters
from django import forms
from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVectorField
from django.db import connection
from django.db.models import Case, Exists, OuterRef, Q, Value, When
from django.db.models.expressions import RawSQL
from taggit.models import Tag, TaggedItem

from resources.models import Cost, Level, Resource, ResourceType
from resources.sections import find_node, flatten, section_tree
from resources.tags import canonical_tag

SORTS = {"top": "Top", "new": "New", "trending": "Trending"}
SEARCH_CONFIG = "english"
MAX_QUERY_LENGTH = 200
MAX_TERMS = 8
MAX_TAGS = 10  # tags that can be combined in one search
TAG_SLUG = re.compile(r"[-\w]+")


# Title above description above provider: a generated, GIN-indexed column on PostgreSQL
# (migration resources/0006), which Django's model does not know about.
STORED_VECTOR = RawSQL('"resources_resource"."search_vector"', [], output_field=SearchVectorField())


def search_terms(text: str) -> list[str]:
    return [term for term in text.split() if term][:MAX_TERMS]


def tagged_with_any(terms: list[str]):
    """A condition: the resource carries a tag named like one of the terms, or like the
    canonical tag a term is another spelling of (serving finds model-serving)."""
    names = Q()
    for term in terms:
        term = term.strip("#,")
        names |= Q(tag__name__iexact=term)
        if (canonical := canonical_tag(term)) and canonical != term.casefold():
            names |= Q(tag__name=canonical)
    return Exists(
        TaggedItem.objects.filter(
            names,
            object_id=OuterRef("pk"),
            content_type__app_label="resources",
            content_type__model="resource",
        )
    )


def search_resources(queryset, text: str, *, ranked: bool = True):
    """Full-text search on PostgreSQL, annotated with its `rank` unless not `ranked` (a
    chosen sort does not need it); every term must match elsewhere."""
    text = " ".join(text.split())[:MAX_QUERY_LENGTH]
    terms = search_terms(text)
    if not terms:
        return queryset
    if connection.vendor == "postgresql":
        query = SearchQuery(text, search_type="websearch", config=SEARCH_CONFIG)
        if ranked:
            queryset = queryset.annotate(rank=SearchRank(STORED_VECTOR, query))
        # An alias, not an annotation: the cards and the API need not read each vector.
        return queryset.alias(search=STORED_VECTOR).filter(Q(search=query) | tagged_with_any(terms))
    relevance = Value(0)
    for term in terms:
        queryset = queryset.filter(
            Q(title__icontains=term)
            | Q(description__icontains=term)
            | Q(provider__icontains=term)
            | tagged_with_any([term])
        )
    if not ranked:
        return queryset
    for term in terms:
        # A crude stand-in for ranking: title matches count most, then tags, then provider.
        relevance = relevance + Case(
            When(title__icontains=term, then=Value(4)),
            When(tagged_with_any([term]), then=Value(2)),
            When(provider__icontains=term, then=Value(1)),
            default=Value(0),
        )
    return queryset.annotate(rank=relevance)


# What a choice parameter left empty (`?level=`) means: any; a missing one means the same.
MULTIPLE_CHOICE_PARAMETERS = ("type", "tag", "level", "cost")
CHOICE_PARAMETERS = ("section", "type", "tag", "level", "cost", "sort")


def without_empty_choices(data):
    data = data.copy()
    for name in MULTIPLE_CHOICE_PARAMETERS:
        if name in data:
            data.setlist(name, [value for value in data.getlist(name) if value])
    return data


class ActiveFilter(NamedTuple):
    """A filter in use, shown as a chip: its label and the query string without it."""

    name: str
    label: str
    query_without: str


class TagSlugFilter(django_filters.BaseInFilter, django_filters.CharFilter):
    pass


def shared_choices(choices: list[tuple[str, str]]):
    """Choices as a function: the copies of the filters and of their form fields that every
    filter set makes share it, rather than copy each choice's tuple twice a request."""
    return lambda: choices


class ResourceFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        method="filter_search",
        label="Search",
        max_length=MAX_QUERY_LENGTH,
        widget=forms.TextInput(
            attrs={"type": "search", "placeholder": "mlflow, drift, feature store…"}
        ),
    )
    section = django_filters.ChoiceFilter(
        method="filter_section", label="Section", empty_label="All sections"
    )
    # Type, level and cost are the resource's own columns: no join, so no row twice, and
    # no DISTINCT (django-filter's default for several choices). PostgreSQL refuses a
    # DISTINCT ordered by the search rank when the server binds the parameters.
    type = django_filters.MultipleChoiceFilter(
        field_name="resource_type",
        choices=shared_choices(ResourceType.choices),
        label="Type",
        widget=forms.CheckboxSelectMultiple,
        distinct=False,
    )
    tag = django_filters.MultipleChoiceFilter(
        method="filter_tags",
        label="Tags",
        widget=forms.MultipleHiddenInput,
    )
    level = django_filters.MultipleChoiceFilter(
        choices=shared_choices(Level.choices),
        label="Level",
        widget=forms.CheckboxSelectMultiple,
        distinct=False,
    )
    cost = django_filters.MultipleChoiceFilter(
        choices=shared_choices(Cost.choices),
        label="Cost",
        widget=forms.CheckboxSelectMultiple,
        distinct=False,
    )
    sort = django_filters.ChoiceFilter(
        method="filter_sort",
        label="Sort by",
        choices=shared_choices([("", "Relevance or top"), *SORTS.items()]),
        empty_label=None,
    )

    class Meta:
        model = Resource
        fields = ["q", "section", "type", "tag", "level", "cost", "sort"]

    def __init__(self, data=None, *args, ignore_invalid: bool = False, **kwargs):
        """ignore_invalid: drop values that are not among a filter's choices, listed in
        `ignored`, rather than failing (the HTML explorer; the API answers them with a 400)."""
        if hasattr(data, "getlist"):
            data = without_empty_choices(data)
        super().__init__(data, *args, **kwargs)
        # A function, which copying the form's fields keeps as it is (a bound method would
        # be copied with the filter set): the section tree is read only when the choices
        # are, for a section asked for or the form drawn.
        self.filters["section"].extra["choices"] = lambda: self.section_choices()
        # Any tag slug is acceptable; unknown ones simply match nothing.
        requested = self.data.getlist("tag") if hasattr(self.data, "getlist") else []
        self.filters["tag"].extra["choices"] = [
            (slug, slug) for slug in requested[:MAX_TAGS] if TAG_SLUG.fullmatch(slug)
        ]
        self.ignored: list[tuple[str, str]] = []
        if ignore_invalid and hasattr(self.data, "getlist"):
            self.data = self.without_invalid_choices(self.data)

    @cached_property
    def tree(self):
        return section_tree()

    def section_choices(self) -> list[tuple[str, str]]:
        return [
            (node.section.slug, ("— " * node.depth) + node.section.title)
            for node in flatten(self.tree)
        ]

    def without_invalid_choices(self, data):
        data = data.copy()
        for name in CHOICE_PARAMETERS:
            values = data.getlist(name)
            if not any(values):
                continue
            choices = self.filters[name].extra["choices"]
            known = {str(value) for value, _ in (choices() if callable(choices) else choices)}
            if unknown := [value for value in values if value and value not in known]:
                label = self.filters[name].label
                self.ignored.extend((label, value) for value in unknown)
                data.setlist(name, [value for value in values if value not in unknown])
        return data

    @property
    def qs(self):
        queryset = super().qs
        if not self.is_bound or not self.form.is_valid() or not self.form.cleaned_data.get("sort"):
            queryset = self.order_default(queryset)
        return queryset

    def order_default(self, queryset):
        if self.is_bound and self.form.is_valid() and self.form.cleaned_data.get("q"):
            if "rank" in queryset.query.annotations:
                return queryset.order_by(
                    "-rank", "-wilson_score", "downvotes", "-created_at", "-id"
                )
        return queryset.order_by_top()

    def filter_search(self, queryset, name, value):
        return search_resources(queryset, value, ranked=not self.form.cleaned_data.get("sort"))

    def filter_section(self, queryset, name, value):
        node = find_node(self.tree, value)
        if node is None:
            return queryset.none()
        return queryset.filter(section__in=[item.section for item in flatten([node])])

    def filter_tags(self, queryset, name, value):
        for slug in value:  # every chosen tag must be present; one join per tag, no duplicates
            queryset = queryset.filter(tags__slug=slug)
        return queryset

    def filter_sort(self, queryset, name, value):
        if value == "new":
            return queryset.order_by_new()
        if value == "trending":
            return queryset.order_by_trending()
        return queryset.order_by_top()

    @cached_property
    def selected_tags(self) -> list[Tag]:
        if not self.is_bound or not self.form.is_valid() or not self.form.cleaned_data.get("tag"):
            return []
        return list(Tag.objects.filter(slug__in=self.form.cleaned_data["tag"]))

    def active_filters(self, *, page_tag: str | None = None) -> list[ActiveFilter]:
        """Section, types, levels, costs and tags in use, each with the address that drops
        it; the tag a tag page is about is that page, not a filter."""
        if not self.is_bound or not self.form.is_valid():
            return []
        data = self.form.cleaned_data
        tag_names = {tag.slug: tag.name for tag in self.selected_tags}
        labels = {
            "type": dict(ResourceType.choices),
            "level": dict(Level.choices),
            "cost": dict(Cost.choices),
        }
        kept: list[tuple[str, str]] = []  # (parameter, value) in the order of the form
        shown: list[tuple[int, str, str]] = []  # (index in kept, parameter, label)
        if data.get("q"):
            kept.append(("q", data["q"]))
        if section := data.get("section"):
            node = find_node(self.tree, section)
            shown.append((len(kept), "section", node.section.title if node else section))
            kept.append(("section", section))
        for name in ("type", "level", "cost"):
            for value in data.get(name) or []:
                shown.append((len(kept), name, labels[name].get(value, value)))
                kept.append((name, value))
        for slug in data.get("tag") or []:
            if slug != page_tag:
                shown.append((len(kept), "tag", f"#{tag_names.get(slug, slug)}"))
                kept.append(("tag", slug))
        if data.get("sort"):
            kept.append(("sort", data["sort"]))
        return [
            ActiveFilter(name, label, urlencode(kept[:index] + kept[index + 1 :]))
            for index, name, label in shown
        ]
