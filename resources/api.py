"""A read-only, public JSON API over the roadmap's sections and approved resources."""

import json
import re
from datetime import UTC, datetime
from functools import wraps

from django import forms
from django.conf import settings
from django.core.paginator import Paginator
from django.core.serializers.json import DjangoJSONEncoder
from django.http import JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.cache import patch_cache_control
from django.utils.functional import cached_property
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_safe

from core.markdown import render_markdown
from resources.filters import MAX_QUERY_LENGTH, MAX_TAGS, SORTS, ResourceFilter
from resources.models import Cost, Level, Resource, ResourceType
from resources.scoring import wilson_lower_bound
from resources.sections import SectionNode, find_node, flatten, section_tree
from resources.selectors import count_matches, with_tag_names

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
# ResourceFilter accepts the first ten requested tags; more would fail with a puzzling message.
# Proxies and browsers may keep an answer this long; the site's own page cache keeps it until
# the catalogue changes (core/cache.py). Nothing is kept while PAGE_CACHE_SECONDS is 0.
MAX_AGE = 60
SAFE_METHODS = ("GET", "HEAD")
FILTER_PARAMETERS = ("q", "section", "type", "tag", "level", "cost", "sort")
PAGE_PARAMETERS = ("page", "page_size")
KNOWN_PARAMETERS = frozenset(FILTER_PARAMETERS + PAGE_PARAMETERS)
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f-\x9f]")


class PageForm(forms.Form):
    page = forms.IntegerField(min_value=1, required=False)
    page_size = forms.IntegerField(min_value=1, max_value=MAX_PAGE_SIZE, required=False)


def api_response(data: dict, *, status: int = 200) -> JsonResponse:
    response = JsonResponse(data, status=status)
    # Anyone may read the API from any origin: it is public, read-only and never uses cookies.
    response["Access-Control-Allow-Origin"] = "*"
    if status == 200 and settings.PAGE_CACHE_SECONDS > 0:
        patch_cache_control(
            response, public=True, max_age=min(MAX_AGE, settings.PAGE_CACHE_SECONDS)
        )
    return response


def error_response(errors: dict[str, list[str]], *, status: int = 400) -> JsonResponse:
    return api_response({"errors": errors}, status=status)


def read_only(view):
    """Answer GET and HEAD; anything else is a JSON 405, never a CSRF failure page."""

    @csrf_exempt  # nothing here changes state, so a POST must reach the 405 below
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if request.method not in SAFE_METHODS:
            response = error_response(
                {"method": ["The API is read-only: only GET and HEAD are allowed."]}, status=405
            )
            response["Allow"] = ", ".join(SAFE_METHODS)
            return response
        response = view(request, *args, **kwargs)
        if not KNOWN_PARAMETERS.issuperset(request.GET.keys()):
            # `?junk=1` answers would fill the page cache, one entry per distinct address.
            patch_cache_control(response, private=True)
        return response

    return wrapper


def form_errors(form: forms.Form) -> dict[str, list[str]]:
    return {
        field: [str(message) for message in messages] for field, messages in form.errors.items()
    }


def control_character_errors(query, names) -> dict[str, list[str]]:
    return {
        name: ["Must not contain control characters."]
        for name in names
        if any(CONTROL_CHARACTERS.search(value) for value in query.getlist(name))
    }


def absolute(request, path: str) -> str:
    return request.build_absolute_uri(path)


PLAIN_URL_VALUE = re.compile(r"[-a-zA-Z0-9_]+")


def address_maker(request, view_name: str, kwarg: str, stand_in: str):
    """A function of `value` giving the absolute address of `view_name` for it, as
    `reverse()` would, at the cost of one `reverse()` (about 40 µs; a page of 20 resources
    needs 40 addresses): the address of `stand_in`, with the value in its place. A value
    that is not a plain ASCII word is reversed in full, so that nothing goes out unescaped."""
    before, _, after = absolute(request, reverse(view_name, kwargs={kwarg: stand_in})).rpartition(
        stand_in
    )

    def address(value) -> str:
        text = str(value)
        if PLAIN_URL_VALUE.fullmatch(text):
            return f"{before}{text}{after}"
        return absolute(request, reverse(view_name, kwargs={kwarg: value}))

    return address


class Addresses:
    """The absolute addresses of resource pages and section pages, for one request."""

    def __init__(self, request):
        self.resource = address_maker(request, "resources:detail", "pk", "2147483647")
        self.section = address_maker(request, "roadmap:section", "slug", "section-slug")


def page_link(request, number: int) -> str:
    query = request.GET.copy()
    query["page"] = str(number)
    return absolute(request, f"{request.path}?{query.urlencode()}")


class CountedPaginator(Paginator):
    """A paginator whose count of the rows a filter matches is counted once for each
    `count_key` until the catalogue changes (resources.selectors.count_matches)."""

    def __init__(self, object_list, per_page, *, count_key: str):
        super().__init__(object_list, per_page)
        self.count_key = count_key

    @cached_property
    def count(self) -> int:
        return count_matches(self.object_list, key=self.count_key)


def paginated(
    request,
    items,
    paging: PageForm,
    serialize,
    *,
    count_key: str | None = None,
    prepare=list,
) -> JsonResponse:
    """One page of `items` in the common envelope, or a 400 when the page does not exist.
    `count_key`: what chose the items, when they are a queryset whose count may be kept;
    `prepare`: what turns the page's items into the list serialised."""
    page_size = paging.cleaned_data["page_size"] or DEFAULT_PAGE_SIZE
    number = paging.cleaned_data["page"] or 1
    if count_key is None:
        paginator = Paginator(items, page_size)
    else:
        paginator = CountedPaginator(items, page_size, count_key=count_key)
    if number > paginator.num_pages:
        return error_response(
            {"page": [f"Page {number} does not exist; the last is {paginator.num_pages}."]}
        )
    page = paginator.page(number)
    return api_response(
        {
            "count": paginator.count,
            "page": page.number,
            "pages": paginator.num_pages,
            "page_size": page_size,
            "next": page_link(request, page.next_page_number()) if page.has_next() else None,
            "previous": (
                page_link(request, page.previous_page_number()) if page.has_previous() else None
            ),
            "results": [serialize(item) for item in prepare(list(page.object_list))],
        }
    )


def resource_data(request, row: dict, addresses: Addresses | None = None) -> dict:
    """The public fields of an approved resource, from its row of `API_COLUMNS` and its
    `tag_names`; anything about its submitter stays out."""
    addresses = addresses or Addresses(request)
    return {
        "id": row["id"],
        "title": row["title"],
        "url": row["url"],
        "page_url": addresses.resource(row["id"]),
        "description": row["description"],
        "description_html": row["description_html"],
        "type": row["resource_type"],
        "cost": row["cost"],
        "level": row["level"] or None,
        "provider": row["provider"],
        "section": {
            "slug": row["section__slug"],
            "title": row["section__title"],
            "url": addresses.section(row["section__slug"]),
        },
        "tags": row["tag_names"],
        "score": row["upvotes"] - row["downvotes"],
        "upvotes": row["upvotes"],
        "downvotes": row["downvotes"],
        "wilson_score": row["wilson_score"],
        "approved_at": row["approved_at"],
    }


def section_data(
    request, node: SectionNode, parent_slugs: dict[int, str], addresses: Addresses | None = None
) -> dict:
    addresses = addresses or Addresses(request)
    section = node.section
    return {
        "slug": section.slug,
        "title": section.title,
        "summary": section.summary,
        "parent": parent_slugs.get(section.parent_id),
        "position": section.position,
        "depth": node.depth,
        "resource_count": node.resource_count,
        "url": addresses.section(section.slug),
    }


def slugs_by_id(nodes: list[SectionNode]) -> dict[int, str]:
    return {node.section.id: node.section.slug for node in nodes}


@read_only
def section_list(request):
    if errors := control_character_errors(request.GET, PAGE_PARAMETERS):
        return error_response(errors)
    paging = PageForm(request.GET)
    if not paging.is_valid():
        return error_response(form_errors(paging))
    nodes = flatten(section_tree())
    parent_slugs, addresses = slugs_by_id(nodes), Addresses(request)
    return paginated(
        request, nodes, paging, lambda node: section_data(request, node, parent_slugs, addresses)
    )


@read_only
def section_detail(request, slug):
    tree = section_tree()
    node = find_node(tree, slug)
    if node is None:
        return error_response({"slug": ["No section has this slug."]}, status=404)
    parent_slugs = slugs_by_id(flatten(tree))
    return api_response(
        {**section_data(request, node, parent_slugs), "body_html": node.section.body_html}
    )


@read_only
def resource_list(request):
    query = request.GET
    if errors := control_character_errors(query, FILTER_PARAMETERS + PAGE_PARAMETERS):
        return error_response(errors)
    paging = PageForm(query)
    errors = form_errors(paging)
    # The filter set and its form cost a third of the page's Python time (they are copied
    # for each request): they are built only when a filter is asked for. Without one the
    # resources come in the filters' default order, which the tests hold to the explorer's.
    filterset = None
    if any(name in query for name in FILTER_PARAMETERS):
        filterset = ResourceFilter(query, queryset=Resource.objects.approved())
        errors.update(form_errors(filterset.form))
        if len(query.getlist("tag")) > MAX_TAGS:
            errors["tag"] = [f"At most {MAX_TAGS} tags can be combined."]
    if errors:
        return error_response(errors)
    if filterset is None:
        resources, filters = Resource.objects.approved().order_by_top(), {}
    else:
        resources, filters = filterset.qs, filterset.form.cleaned_data
    addresses = Addresses(request)
    return paginated(
        request,
        resources.api_rows(),
        paging,
        lambda row: resource_data(request, row, addresses),
        count_key=f"api:{sorted(filters.items())!r}",
        prepare=with_tag_names,
    )


@read_only
def resource_detail(request, pk):
    resource = Resource.objects.approved().filter(pk=pk).api_rows().first()
    if resource is None:
        return error_response({"id": ["No approved resource has this id."]}, status=404)
    return api_response(resource_data(request, with_tag_names([resource])[0]))


def example_resource() -> dict:
    """A made-up resource's row for the documentation, serialised by the same code as real
    ones."""
    description = "A free, code-first course on production-grade ML applications."
    return {
        "id": 42,
        "title": "Made With ML",
        "url": "https://madewithml.com/",
        "description": description,
        "description_html": render_markdown(description),
        "resource_type": ResourceType.COURSE,
        "cost": Cost.FREE,
        "level": Level.INTERMEDIATE,
        "provider": "Goku Mohandas",
        "section__slug": "courses",
        "section__title": "Courses",
        "upvotes": 12,
        "downvotes": 1,
        "wilson_score": wilson_lower_bound(12, 1),
        "approved_at": datetime(2025, 3, 14, 9, 26, 53, tzinfo=UTC),
        "tag_names": ["ci-cd", "end-to-end", "testing"],
    }


@require_safe
def docs(request):
    resources_url = absolute(request, reverse("api:resources"))
    example_request = f"{resources_url}?type=course&cost=free&sort=top&page_size=1"
    example_response = {
        "count": 14,
        "page": 1,
        "pages": 14,
        "page_size": 1,
        "next": f"{example_request}&page=2",
        "previous": None,
        "results": [resource_data(request, example_resource())],
    }
    return render(
        request,
        "api/docs.html",
        {
            "example_request": example_request,
            "example_response": json.dumps(example_response, cls=DjangoJSONEncoder, indent=2),
            "types": ResourceType.choices,
            "costs": Cost.choices,
            "levels": Level.choices,
            "sorts": SORTS,
            "max_query_length": MAX_QUERY_LENGTH,
            "max_tags": MAX_TAGS,
            "default_page_size": DEFAULT_PAGE_SIZE,
            "max_page_size": MAX_PAGE_SIZE,
        },
    )
