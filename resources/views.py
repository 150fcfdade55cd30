from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.http import Http404, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.functional import SimpleLazyObject, cached_property
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from accounts.permissions import verified_email_required_or_explain
from core.cache import cache_page_for_anonymous
from core.http import back_to_card, swap_with_status
from resources import selectors, services
from resources.filters import ResourceFilter
from resources.forms import EditProposalForm, FlagForm, SuggestionForm, VoteForm
from resources.models import EditProposal, Resource, Status, section_model
from resources.normalize import InvalidURL
from resources.sections import section_path
from resources.tags import canonical_tag

SUGGESTED_TAGS = 24  # offered under the tags field while suggesting


@require_safe
@cache_page_for_anonymous
def resource_detail(request, pk):
    resource = get_object_or_404(
        Resource.objects.for_cards()
        .with_user_vote(request.user)
        .with_user_progress(request.user)
        .prefetch_related(Prefetch("alternate_links", to_attr="alternate_link_list")),
        pk=pk,
    )
    if resource.merged_into_id:
        # Only to a resource the reader may see: an archived duplicate must not point at a
        # pending suggestion.
        target = Resource.objects.filter(pk=resource.merged_into_id).first()
        if target is None or not selectors.may_see(request.user, target):
            raise Http404("No such resource")
        return redirect("resources:detail", pk=target.pk, permanent=target.is_public)
    if not selectors.may_see(request.user, resource):
        raise Http404("No such resource")
    return render(
        request,
        "resources/detail.html",
        {
            "resource": resource,
            "flag_form": FlagForm(),
            "related": selectors.related_resources(resource) if resource.is_public else [],
            "my_report": selectors.open_report(request.user, resource),
            "section_path": section_path(resource.section_id),
            **selectors.reader_context(request.user),
        },
    )


def _duplicate_error(form: SuggestionForm, error: services.DuplicateResource) -> None:
    form.add_error("url", str(error))
    form.duplicate = error.existing if error.existing.is_public else None


@verified_email_required_or_explain
@require_http_methods(["GET", "POST"])
def suggest(request):
    form = SuggestionForm(
        request.POST if request.method == "POST" else None, initial=_initial_from_query(request)
    )
    if request.method == "POST" and form.is_valid():
        try:
            resource = services.submit_resource(user=request.user, data=form.cleaned_data)
        except services.DuplicateResource as error:
            _duplicate_error(form, error)
        except services.SuggestionLimitReached as error:
            form.add_error(None, str(error))
        except InvalidURL as error:
            form.add_error("url", str(error))
        else:
            messages.success(
                request,
                f"Thank you! “{resource.title}” is waiting for a moderator's review. "
                "You can still edit it here until then.",
            )
            return redirect("resources:mine")
    return render(
        request,
        "resources/suggest.html",
        {"form": form, "popular_tags": selectors.popular_tags(limit=SUGGESTED_TAGS)},
    )


def _initial_from_query(request) -> dict:
    """Let links such as ?section=courses pre-select the section."""
    initial = {}
    if slug := request.GET.get("section"):
        section = section_model().objects.filter(slug=slug).first()
        if section:
            initial["section"] = section.pk
    return initial


@login_required
@require_safe
def my_suggestions(request):
    suggestions = (
        Resource.objects.filter(submitted_by=request.user)
        .select_related("section")
        .order_by("-created_at", "-id")
    )
    page = Paginator(suggestions, 25).get_page(request.GET.get("page"))
    return render(request, "resources/mine.html", {"page": page})


def _own_pending(request, pk) -> Resource:
    return get_object_or_404(
        Resource.objects.select_related("section"),
        pk=pk,
        submitted_by=request.user,
        status=Status.PENDING,
    )


@require_http_methods(["GET", "POST"])
def edit(request, pk):
    """A submitter corrects their pending suggestion; anyone verified proposes an edit of a
    published resource."""
    if (
        request.user.is_authenticated
        and Resource.objects.filter(
            pk=pk, submitted_by=request.user, status=Status.PENDING
        ).exists()
    ):
        return edit_suggestion(request, pk)
    return propose_edit(request, pk)


@verified_email_required_or_explain
def propose_edit(request, pk):
    resource = get_object_or_404(Resource.objects.approved().select_related("section"), pk=pk)
    waiting = EditProposal.objects.open().filter(proposer=request.user, resource=resource).first()
    if request.method == "POST":
        form = EditProposalForm(request.POST)
        if form.is_valid():
            try:
                services.propose_edit(
                    user=request.user,
                    resource=resource,
                    changes=form.changes(),
                    reason=form.cleaned_data["reason"],
                )
            except services.DuplicateResource as error:
                _duplicate_error(form, error)
            except InvalidURL as error:
                form.add_error("url", str(error))
            except services.CommunityActionError as error:
                form.add_error(None, str(error))
            else:
                messages.success(
                    request,
                    "Thank you! Your edit is waiting for a moderator's review; you will get an "
                    "e-mail once it is decided.",
                )
                return redirect(resource.get_absolute_url())
    else:
        form = EditProposalForm(initial=SuggestionForm.initial_for(resource))
    return render(
        request,
        "resources/propose_edit.html",
        {
            "form": form,
            "resource": resource,
            "waiting": waiting,
            "popular_tags": selectors.popular_tags(limit=SUGGESTED_TAGS),
        },
    )


@require_safe
@cache_page_for_anonymous
def history(request, pk):
    """What readers' accepted edits changed on a resource, newest first."""
    resource = get_object_or_404(Resource.objects.select_related("section"), pk=pk)
    if not selectors.may_see(request.user, resource):
        raise Http404("No such resource")
    return render(
        request,
        "resources/history.html",
        {"resource": resource, "entries": selectors.resource_history(resource)},
    )


@login_required
@require_http_methods(["GET", "POST"])
def edit_suggestion(request, pk):
    resource = _own_pending(request, pk)
    if request.method == "POST":
        form = SuggestionForm(
            request.POST, keep_section=resource.section_id, exclude_pk=resource.pk
        )
        if form.is_valid():
            try:
                services.update_suggestion(
                    user=request.user, resource=resource, data=form.cleaned_data
                )
            except services.DuplicateResource as error:
                _duplicate_error(form, error)
            except services.NotAllowed as error:
                form.add_error(None, str(error))
            else:
                messages.success(request, "Your suggestion was updated.")
                return redirect("resources:mine")
    else:
        form = SuggestionForm(
            initial=SuggestionForm.initial_for(resource), keep_section=resource.section_id
        )
    return render(
        request,
        "resources/edit.html",
        {
            "form": form,
            "resource": resource,
            "popular_tags": selectors.popular_tags(limit=SUGGESTED_TAGS),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def withdraw_suggestion(request, pk):
    """GET asks for confirmation; only the POST from that page withdraws."""
    resource = _own_pending(request, pk)
    if request.method == "GET":
        return render(request, "resources/withdraw.html", {"resource": resource})
    services.withdraw_suggestion(user=request.user, resource=resource)
    messages.success(request, f"You withdrew “{resource.title}”.")
    return redirect("resources:mine")


def vote_status(my_vote: int, score: int) -> str:
    done = {1: "Voted up", -1: "Voted down"}.get(my_vote, "Vote withdrawn")
    return f"{done}, score {score}"


@verified_email_required_or_explain
@require_POST
def vote(request, pk):
    form = VoteForm(request.POST)
    if not form.is_valid():
        return HttpResponseBadRequest("A vote is either up or down.")
    try:
        # The service reads the resource itself (no lock): one read, not two.
        result = services.cast_vote(
            user=request.user, resource=pk, value=form.cleaned_data["value"]
        )
    except Resource.DoesNotExist:
        raise Http404("No such resource") from None
    except services.NotAllowed as error:
        resource = get_object_or_404(Resource, pk=pk)
        if not selectors.may_see(request.user, resource):
            # The refusal would draw the card: nothing of a resource the reader may not see.
            raise Http404("No such resource") from None
        if request.htmx:
            return render(
                request,
                "partials/vote_widget.html",
                {"resource": resource, "can_vote": True, "vote_error": str(error)},
            )
        messages.error(request, str(error))
        return redirect(back_to_card(request, resource.get_absolute_url(), resource.pk))
    result.resource.my_vote = result.my_vote
    if request.htmx:
        return swap_with_status(
            request,
            "partials/vote_widget.html",
            {"resource": result.resource, "can_vote": True},
            vote_status(result.my_vote, result.resource.score),
        )
    return redirect(back_to_card(request, result.resource.get_absolute_url(), result.resource.pk))


@verified_email_required_or_explain
@require_http_methods(["GET", "POST"])
def flag(request, pk):
    resource = get_object_or_404(Resource.objects.approved().select_related("section"), pk=pk)
    form = FlagForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            services.flag_with_fix(
                user=request.user,
                resource=resource,
                reason=form.cleaned_data["reason"],
                note=form.cleaned_data["note"],
                fix=form.fix(),
            )
        except services.DuplicateResource as error:
            form.add_error("new_url", str(error))
        except InvalidURL as error:
            form.add_error("new_url", str(error))
        except services.CommunityActionError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, "Thank you for the report. A moderator will look at it.")
            return redirect(resource.get_absolute_url())
    return render(
        request,
        "resources/flag.html",
        {
            "form": form,
            "resource": resource,
            "my_report": selectors.open_report(request.user, resource),
        },
    )


EXPLORER_PAGE_SIZE = 20
# The parameters an explorer address may carry and still be cached.
EXPLORER_QUERY = frozenset([*ResourceFilter.Meta.fields, "page"])
# The explorer counts at most this many matches: past it the count says "more than", and
# the pages stop there (GitHub's search does the same); filters narrow the rest.
EXPLORER_COUNT_CAP = 1000


class CappedPaginator(Paginator):
    """Pages of a list of ids read no further than `cap` + 1, so that a broad search does not
    have to count every match: it says how many up to `cap`, and whether there are more."""

    def __init__(self, ids: list[int], per_page, cap: int):
        super().__init__(ids, per_page)
        self.cap = cap

    @cached_property
    def count(self) -> int:
        return min(len(self.object_list), self.cap)

    @property
    def capped(self) -> bool:
        return len(self.object_list) > self.cap


@require_safe
@cache_page_for_anonymous(query=EXPLORER_QUERY)
def explorer(request, tag_slug=None):
    data = request.GET.copy()
    tag = None
    if tag_slug is not None:
        tag = selectors.public_tag(tag_slug)
        if tag is None:
            # Old links to a tag that was merged into its canonical one (case-studies).
            canonical = canonical_tag(tag_slug)
            if canonical != tag_slug and selectors.public_tag(canonical) is not None:
                url = reverse("tag", args=[canonical])
                query = request.GET.urlencode()
                return redirect(f"{url}?{query}" if query else url, permanent=True)
            raise Http404("No such tag")
        if tag_slug not in data.getlist("tag"):
            data.appendlist("tag", tag_slug)
    filterset, results = selectors.explorer_results(data)
    # What decides the cards shown, whatever else the address carries.
    results_key = repr(sorted(filterset.form.cleaned_data.items())) if filterset.is_valid() else ""
    ids = selectors.matching_ids(
        results, key=f"explorer:{results_key}", limit=EXPLORER_COUNT_CAP + 1
    )
    page = CappedPaginator(ids, EXPLORER_PAGE_SIZE, EXPLORER_COUNT_CAP).get_page(
        request.GET.get("page")
    )
    shown = list(page.object_list)
    query = data.copy()
    query.pop("page", None)
    context = {
        "filter": filterset,
        "page": page,
        # Which resources the page shows is kept with the pages; the cards are read only
        # when they are drawn: not when a signed-in reader's cached card list (keyed by
        # reader_state, one narrow query of those ids) is still good.
        "reader_state": SimpleLazyObject(lambda: selectors.reader_state_of(shown, request.user)),
        "cards": SimpleLazyObject(
            lambda: selectors.in_order_of(
                shown, selectors.cards_for(request.user).filter(pk__in=shown)
            )
        ),
        "results_key": results_key,
        # What decides the filter form: the values it shows (the address's other parameters
        # do not matter).
        "filters_key": repr(
            [(name, filterset.data.getlist(name)) for name in filterset.form.fields]
        ),
        "query": query.urlencode(),
        "tag": tag,
        "active_filters": filterset.active_filters(page_tag=tag_slug),
        # Read only when the popular tags are drawn, not while their fragment is cached.
        "popular_tags": SimpleLazyObject(selectors.popular_tags),
        **selectors.reader_context(request.user),
    }
    if request.htmx and request.htmx.target == "results":
        return render(request, "partials/explorer_results.html", context)
    return render(request, "resources/explorer.html", context)


@require_safe
@cache_page_for_anonymous
def tag_list(request):
    return render(request, "resources/tags.html", {"tags": selectors.popular_tags(limit=None)})


SUGGESTIONS_PER_PAGE = 20


@require_safe
def profile(request, username):
    """A member's public page: when they joined, what they contributed, their karma."""
    if "\x00" in username:  # no account has one, and PostgreSQL cannot compare it
        raise Http404("No such member")
    member = get_object_or_404(get_user_model(), username=username, is_active=True)
    page = Paginator(selectors.approved_submissions(member), SUGGESTIONS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "accounts/profile.html",
        {
            "member": member,
            "stats": selectors.contribution_stats(member),
            "edit_karma": selectors.EDIT_KARMA,
            "recent_edits": selectors.recent_accepted_edits(member),
            "page": page,
            "is_owner": request.user.is_authenticated and request.user.pk == member.pk,
        },
    )
