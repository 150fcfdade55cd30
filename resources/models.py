from django.conf import settings
from django.db import models
from django.db.models import Prefetch, Q
from django.db.models.functions import Coalesce
from django.urls import reverse
from taggit.managers import TaggableManager

from core.markdown import render_markdown
from resources.normalize import fold_name, project_key


class ResourceType(models.TextChoices):
    ARTICLE = "article", "Article"
    COURSE = "course", "Course"
    BOOK = "book", "Book"
    BLOG = "blog", "Blog"
    PODCAST = "podcast", "Podcast"
    VIDEO = "video", "Video"
    PAPER = "paper", "Paper"
    TOOL = "tool", "Tool"
    PROJECT = "project", "Project"
    COMMUNITY = "community", "Community"
    NEWSLETTER = "newsletter", "Newsletter"


class Cost(models.TextChoices):
    FREE = "free", "Free"
    FREEMIUM = "freemium", "Freemium"
    PAID = "paid", "Paid"
    # Imports do not know what a link costs; readers see "Cost unknown" until a moderator sets it.
    UNKNOWN = "unknown", "Cost unknown"


class Level(models.TextChoices):
    BEGINNER = "beginner", "Beginner"
    INTERMEDIATE = "intermediate", "Intermediate"
    ADVANCED = "advanced", "Advanced"


class Status(models.TextChoices):
    PENDING = "pending", "Pending review"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    ARCHIVED = "archived", "Archived"


def choices_check(field: str, choices: type[models.TextChoices], name: str, blank=False):
    values = list(choices.values) + ([""] if blank else [])
    return models.CheckConstraint(condition=Q(**{f"{field}__in": values}), name=name)


# Columns a card in a list never shows (templates/partials/resource_card.html).
CARD_LIST_DEFERRED = (
    "description",
    "normalized_url",
    "rejection_reason",
    "link_status_code",
    "link_error",
    "link_final_url",
)

# What the JSON API shows of a resource and its section.
API_FIELDS = (
    "title",
    "url",
    "description",
    "description_html",
    "resource_type",
    "cost",
    "level",
    "provider",
    "upvotes",
    "downvotes",
    "wilson_score",
    "approved_at",
    "section__slug",
    "section__title",
)


class ResourceQuerySet(models.QuerySet):
    def approved(self) -> "ResourceQuerySet":
        """The only resources the public ever sees."""
        return self.filter(status=Status.APPROVED)

    def for_cards(self) -> "ResourceQuerySet":
        """Everything a resource card shows, in a fixed number of queries."""
        return self.select_related("section", "submitted_by").prefetch_related(
            Prefetch("tags", to_attr="tag_list")
        )

    def for_card_list(self) -> "ResourceQuerySet":
        """What a card in a list shows and no more: no related rows, no unused long text."""
        return self.defer(*CARD_LIST_DEFERRED).prefetch_related(
            Prefetch("tags", to_attr="tag_list")
        )

    def api_rows(self) -> "ResourceQuerySet":
        """The columns the JSON API serialises (resources/api.py resource_data) as plain
        dicts, not model instances: the section's slug and title, not its prose; no
        submitter. Last in a chain, after the filters and the order. The tags' names come
        from resources.selectors.with_tag_names."""
        return self.values("id", *API_FIELDS)

    def with_user_vote(self, user) -> "ResourceQuerySet":
        """Annotate `my_vote`: the user's +1/-1 on each resource, 0 when none or anonymous."""
        if not getattr(user, "is_authenticated", False):
            return self.annotate(my_vote=models.Value(0, output_field=models.IntegerField()))
        mine = Vote.objects.filter(user=user, resource=models.OuterRef("pk")).values("value")[:1]
        return self.annotate(
            my_vote=Coalesce(models.Subquery(mine), 0, output_field=models.IntegerField())
        )

    def with_user_progress(self, user) -> "ResourceQuerySet":
        """Annotate `my_progress`: the user's ProgressState on each resource, "" when none."""
        if not getattr(user, "is_authenticated", False):
            return self.annotate(my_progress=models.Value("", output_field=models.CharField()))
        mine = Progress.objects.filter(user=user, resource=models.OuterRef("pk")).values("state")[
            :1
        ]
        return self.annotate(
            my_progress=Coalesce(
                models.Subquery(mine), models.Value(""), output_field=models.CharField()
            )
        )

    def due_for_link_check(self) -> "ResourceQuerySet":
        """Approved resources, those never checked first, then the longest unchecked."""
        return self.approved().order_by(models.F("link_checked_at").asc(nulls_first=True), "id")

    def order_by_top(self) -> "ResourceQuerySet":
        # Every resource without an up vote has a Wilson bound of 0: fewer down votes first,
        # so that -1 never ranks above 0.
        return self.order_by("-wilson_score", "downvotes", "-created_at", "-id")

    def order_by_trending(self) -> "ResourceQuerySet":
        return self.order_by("-hot_score", "-id")

    def order_by_new(self) -> "ResourceQuerySet":
        return self.order_by("-created_at", "-id")


def section_model():
    """The roadmap's Section model. The roadmap app is above this one, so it is named, never
    imported."""
    return Resource._meta.get_field("section").related_model


# The columns a vote moves (resources.services.cast_vote, recount_votes): a save of anything
# else leaves them out, so that tallies read earlier never overwrite a vote cast since.
VOTE_MOVED_FIELDS = ("upvotes", "downvotes", "wilson_score", "hot_score")

# Two failed checks in a row, not one, so that a site's brief outage does not count.
LINK_FAILURES_BEFORE_BROKEN = 2


class Resource(models.Model):
    """A link to something worth learning from, suggested by someone and reviewed."""

    title = models.CharField(max_length=200)
    url = models.URLField("URL", max_length=2000)
    normalized_url = models.CharField(max_length=2000, unique=True, editable=False)
    description = models.TextField(blank=True)
    description_html = models.TextField(blank=True, editable=False)
    resource_type = models.CharField("type", max_length=20, choices=ResourceType.choices)
    cost = models.CharField(max_length=10, choices=Cost.choices, default=Cost.UNKNOWN)
    level = models.CharField(max_length=20, choices=Level.choices, blank=True)
    provider = models.CharField("provider or author", max_length=200, blank=True)
    section = models.ForeignKey(
        "roadmap.Section", on_delete=models.PROTECT, related_name="resources"
    )
    tags = TaggableManager(blank=True)
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="submissions",
    )
    is_affiliated = models.BooleanField(
        "submitter is the author or affiliated with it", default=False
    )
    # Vote tallies are a cache of the Vote rows, moved by a compare-and-set on every vote
    # (VOTE_MOVED_FIELDS), so that sections can be ordered by an index instead of
    # aggregating votes per request.
    upvotes = models.PositiveIntegerField(default=0, editable=False)
    downvotes = models.PositiveIntegerField(default=0, editable=False)
    wilson_score = models.FloatField(default=0.0, editable=False)
    hot_score = models.FloatField(default=0.0, editable=False)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    approved_at = models.DateTimeField(null=True, blank=True, editable=False)
    rejection_reason = models.TextField(blank=True)
    link_broken = models.BooleanField(
        "link is broken", default=False, help_text="Readers reported that the link is dead."
    )
    # The automatic link check (manage.py check_links) keeps the outcome of its last visit.
    link_checked_at = models.DateTimeField(
        "link last checked", null=True, blank=True, editable=False
    )
    link_status_code = models.PositiveSmallIntegerField(
        "HTTP status of the last check", null=True, blank=True, editable=False
    )
    link_error = models.CharField(
        "error of the last check", max_length=500, blank=True, editable=False
    )
    link_final_url = models.URLField(
        "address after redirects", max_length=2000, blank=True, editable=False
    )
    link_failures = models.PositiveSmallIntegerField(
        "failed checks in a row", default=0, editable=False
    )
    # Set when a moderator merged this duplicate into another resource; its old address
    # redirects there.
    merged_into = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        editable=False,
        on_delete=models.SET_NULL,
        related_name="merged_from",
    )

    # Where an import found it (manage.py import_markdown), and what the moderator should check.
    import_batch = models.ForeignKey(
        "ImportBatch",
        null=True,
        blank=True,
        editable=False,
        on_delete=models.PROTECT,
        related_name="resources",
    )
    source_line = models.PositiveIntegerField("line in the imported file", null=True, blank=True)
    review_note = models.CharField("note for moderators", max_length=300, blank=True)
    # Caches of url and title for "same project" duplicates (resources.normalize).
    project_key = models.CharField(max_length=100, blank=True, editable=False, db_index=True)
    name_key = models.CharField(max_length=200, blank=True, editable=False, db_index=True)

    objects = ResourceQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # A section page reads each section's best cards down one of these two, in the
            # order of roadmap.selectors.ranking, and counts its cards by type from the third.
            models.Index(
                fields=["section", "status", "-wilson_score", "downvotes", "-created_at", "-id"],
                name="resource_section_top",
            ),
            models.Index(
                fields=["section", "status", "-created_at", "-id"], name="resource_section_new"
            ),
            models.Index(
                fields=["section", "status", "resource_type"], name="resource_section_type"
            ),
            models.Index(fields=["status", "-created_at"], name="resource_status_new"),
            models.Index(fields=["status", "-wilson_score"], name="resource_status_top"),
            models.Index(fields=["status", "-hot_score"], name="resource_status_hot"),
        ]
        constraints = [
            choices_check("status", Status, "resource_status_valid"),
            choices_check("resource_type", ResourceType, "resource_type_valid"),
            choices_check("cost", Cost, "resource_cost_valid"),
            choices_check("level", Level, "resource_level_valid", blank=True),
            models.CheckConstraint(
                condition=Q(url__startswith="http://") | Q(url__startswith="https://"),
                name="resource_url_http",
            ),
            models.CheckConstraint(
                condition=Q(merged_into__isnull=True)
                | (Q(status="archived") & ~Q(merged_into=models.F("id"))),
                name="resource_merged_is_archived",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def save(self, *args, **kwargs) -> None:
        # description_html is a cache of the rendered, sanitised description.
        update_fields = kwargs.get("update_fields")
        if update_fields is None or "description" in update_fields:
            self.description_html = render_markdown(self.description)
        if update_fields is not None and "description" in update_fields:
            kwargs["update_fields"] = {*update_fields, "description_html"}
        # project_key and name_key are caches of url and title, kept for duplicate checks.
        if update_fields is None or {"url", "title"} & set(update_fields):
            self.project_key = project_key(self.url)
            self.name_key = fold_name(self.title)
        if update_fields is not None and {"url", "title"} & set(update_fields):
            kwargs["update_fields"] = {*kwargs["update_fields"], "project_key", "name_key"}
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("resources:detail", kwargs={"pk": self.pk})

    @property
    def score(self) -> int:
        return self.upvotes - self.downvotes

    @property
    def is_public(self) -> bool:
        return self.status == Status.APPROVED

    @property
    def progress_known(self) -> bool:
        """The query read the reader's progress (with_user_progress), so a card can show it."""
        return hasattr(self, "my_progress")

    @property
    def link_may_be_broken(self) -> bool:
        """Moderators marked it broken, or the link check failed often enough in a row."""
        return self.link_broken or self.link_failures >= LINK_FAILURES_BEFORE_BROKEN


class ImportStatus(models.TextChoices):
    RUNNING = "running", "Running"
    FINISHED = "finished", "Finished"
    FAILED = "failed", "Failed (its resources were removed)"
    WITHDRAWN = "withdrawn", "Withdrawn"


class ImportBatch(models.Model):
    """One run of manage.py import_markdown: where the file came from, who ran it, what came of
    each line that holds a link. Its resources point back at it."""

    source = models.CharField(max_length=500, help_text="File name or URL of the imported list.")
    revision = models.CharField(
        max_length=100, blank=True, help_text="The list's commit or date, when given."
    )
    run_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="import_batches",
    )
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(
        max_length=10, choices=ImportStatus.choices, default=ImportStatus.RUNNING
    )
    # Every list line (or table row) that holds a link has exactly one outcome.
    link_lines = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField("lines created", default=0)
    duplicates = models.PositiveIntegerField("lines already on the site", default=0)
    skipped = models.PositiveIntegerField("lines skipped", default=0)
    reported = models.PositiveIntegerField("lines reported", default=0)
    resources_created = models.PositiveIntegerField(default=0)
    sections_created = models.PositiveIntegerField(default=0)
    # The lines that did not become resources: [{"line", "outcome", "reason", "title", "url",
    # "same_as"}], for the moderator's report page.
    report = models.JSONField(default=list, blank=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name_plural = "import batches"
        ordering = ["-started_at", "-id"]
        constraints = [
            choices_check("status", ImportStatus, "import_status_valid"),
            models.CheckConstraint(
                condition=Q(status="running")
                | Q(
                    link_lines=models.F("created")
                    + models.F("duplicates")
                    + models.F("skipped")
                    + models.F("reported")
                ),
                name="import_counts_add_up",
            ),
        ]

    def __str__(self) -> str:
        when = f" ({self.revision})" if self.revision else ""
        return f"#{self.pk} {self.source}{when}"


class Vote(models.Model):
    """One user's up (+1) or down (-1) vote on one resource."""

    UP = 1
    DOWN = -1

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="votes"
    )
    resource = models.ForeignKey(Resource, on_delete=models.CASCADE, related_name="votes")
    value = models.SmallIntegerField(choices=[(UP, "Up"), (DOWN, "Down")])
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "resource"], name="one_vote_per_user"),
            models.CheckConstraint(condition=Q(value__in=[1, -1]), name="vote_value_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.user} {self.value:+d} {self.resource}"


class ProgressState(models.TextChoices):
    IN_PROGRESS = "in_progress", "In progress"
    SAVED = "saved", "Saved"
    DONE = "done", "Done"


class ProgressQuerySet(models.QuerySet):
    def done_counts_by_section(self, user) -> dict[int, int]:
        """{section id: approved resources the user has done there}, in one grouped query."""
        rows = (
            self.filter(user=user, state=ProgressState.DONE, resource__status=Status.APPROVED)
            .values("resource__section_id")
            .annotate(done=models.Count("id"))
            .order_by()
        )
        return {row["resource__section_id"]: row["done"] for row in rows}

    def for_learning_page(self, user) -> "ProgressQuerySet":
        """One user's tracked resources with their sections, most recently changed first."""
        return (
            self.filter(user=user)
            .select_related("resource__section")
            .order_by("-updated_at", "-id")
        )


class Progress(models.Model):
    """Where one user stands with one resource; private to that user. No row: not tracked."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="progress"
    )
    resource = models.ForeignKey(Resource, on_delete=models.CASCADE, related_name="progress")
    state = models.CharField(max_length=12, choices=ProgressState.choices)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ProgressQuerySet.as_manager()

    class Meta:
        verbose_name_plural = "progress"
        constraints = [
            models.UniqueConstraint(fields=["user", "resource"], name="one_progress_per_user"),
            choices_check("state", ProgressState, "progress_state_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.user}: {self.get_state_display()} {self.resource}"


class FlagReason(models.TextChoices):
    BROKEN_LINK = "broken_link", "Broken link"
    NOT_FREE = "not_free", "Not free as stated"
    OUTDATED = "outdated", "Outdated"
    SPAM = "spam", "Spam or self-promotion"
    DUPLICATE = "duplicate", "Duplicate"
    OTHER = "other", "Other"


class FlagStatus(models.TextChoices):
    OPEN = "open", "Open"
    DISMISSED = "dismissed", "Dismissed"
    ACCEPTED = "accepted", "Accepted"


class Flag(models.Model):
    """A reader's report that something is wrong with a resource, for moderators."""

    resource = models.ForeignKey(Resource, on_delete=models.CASCADE, related_name="flags")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="flags",
    )
    reason = models.CharField(max_length=20, choices=FlagReason.choices)
    note = models.TextField(blank=True)
    status = models.CharField(max_length=10, choices=FlagStatus.choices, default=FlagStatus.OPEN)
    created_at = models.DateTimeField(auto_now_add=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "resource"],
                condition=Q(status="open"),
                name="one_open_flag_per_user",
            ),
            choices_check("reason", FlagReason, "flag_reason_valid"),
            choices_check("status", FlagStatus, "flag_status_valid"),
            models.CheckConstraint(
                condition=~Q(reason="other") | ~Q(note=""), name="flag_other_needs_note"
            ),
        ]
        indexes = [models.Index(fields=["status", "resource"], name="flag_status_resource")]

    def __str__(self) -> str:
        return f"{self.get_reason_display()}: {self.resource}"


class ModerationAction(models.TextChoices):
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    ARCHIVED = "archived", "Archived"
    MERGED = "merged", "Merged"
    FLAG_DISMISSED = "flag_dismissed", "Flag dismissed"
    FLAG_ACCEPTED = "flag_accepted", "Flag accepted"
    EDIT_ACCEPTED = "edit_accepted", "Edit accepted"
    EDIT_DECLINED = "edit_declined", "Edit declined"


class ModerationEventQuerySet(models.QuerySet):
    def for_log(self) -> "ModerationEventQuerySet":
        """Newest first, with everything a log row shows, in a fixed number of queries."""
        return self.select_related("moderator", "resource", "target", "flag").order_by(
            "-created_at", "-id"
        )


class AppendOnlyError(Exception):
    """Raised when code tries to change or delete a recorded moderation event."""


class ModerationEvent(models.Model):
    """One moderator decision, recorded once and never changed."""

    action = models.CharField(max_length=20, choices=ModerationAction.choices)
    # SET_NULL, not CASCADE: deleting a resource must not erase the record of decisions
    # about it, so the title is kept as a snapshot.
    resource = models.ForeignKey(
        Resource,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="moderation_events",
    )
    resource_title = models.CharField(max_length=200)
    target = models.ForeignKey(
        Resource,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The resource a duplicate was merged into.",
    )
    flag = models.ForeignKey(
        Flag,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="moderation_events",
    )
    moderator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="moderation_events",
    )
    reason = models.TextField(blank=True)
    proposal = models.ForeignKey(
        "EditProposal",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="moderation_events",
        help_text="The suggested edit this decision was about.",
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    objects = ModerationEventQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [choices_check("action", ModerationAction, "moderation_action_valid")]

    def __str__(self) -> str:
        return f"{self.get_action_display()}: {self.resource_title}"

    # The log is append-only: the admin offers no change or delete, and the model refuses too.
    def save(self, *args, **kwargs) -> None:
        if not self._state.adding:
            raise AppendOnlyError("Moderation events cannot be changed once recorded.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("Moderation events cannot be deleted.")


# Suggested edits: a reader proposes a correction to a published resource, a moderator
# accepts all of it, some fields, or declines it. Accepted proposals are the public history.


class ProposalStatus(models.TextChoices):
    OPEN = "open", "Waiting for review"
    ACCEPTED = "accepted", "Accepted"
    PARTLY_ACCEPTED = "partly_accepted", "Partly accepted"
    DECLINED = "declined", "Declined"


# What a reader may propose to change, in the order a diff lists them.
EDITABLE_FIELDS = (
    "title",
    "url",
    "resource_type",
    "cost",
    "level",
    "provider",
    "description",
    "tags",
    "section",
)
ACCEPTED_STATUSES = (ProposalStatus.ACCEPTED, ProposalStatus.PARTLY_ACCEPTED)


class EditProposalQuerySet(models.QuerySet):
    def open(self) -> "EditProposalQuerySet":
        return self.filter(status=ProposalStatus.OPEN)

    def accepted(self) -> "EditProposalQuerySet":
        return self.filter(status__in=ACCEPTED_STATUSES)

    def for_history(self) -> "EditProposalQuerySet":
        """Accepted edits, newest first, with who proposed and who accepted them."""
        return (
            self.accepted().select_related("proposer", "decided_by").order_by("-decided_at", "-id")
        )


class EditProposal(models.Model):
    """A reader's proposed correction of a published resource, for moderators to decide."""

    resource = models.ForeignKey(Resource, on_delete=models.CASCADE, related_name="edit_proposals")
    proposer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="edit_proposals",
    )
    # {field: proposed value} for the fields it changes; tags are a sorted list of names,
    # the section its id. `base` holds the same fields as they were when it was proposed.
    changes = models.JSONField()
    base = models.JSONField()
    reason = models.CharField(max_length=500)
    flag = models.ForeignKey(
        Flag,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="edit_proposals",
        help_text="The report this proposal came with.",
    )
    status = models.CharField(
        max_length=16, choices=ProposalStatus.choices, default=ProposalStatus.OPEN
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    decline_reason = models.TextField(blank=True)
    # {field: [value before, value after]} for what accepting changed.
    applied = models.JSONField(default=dict, blank=True)

    objects = EditProposalQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = "suggested edit"
        constraints = [
            models.UniqueConstraint(
                fields=["proposer", "resource"],
                condition=Q(status="open"),
                name="one_open_proposal_per_reader",
            ),
            choices_check("status", ProposalStatus, "proposal_status_valid"),
            models.CheckConstraint(
                condition=Q(status="open") | Q(decided_at__isnull=False),
                name="proposal_decided_has_date",
            ),
            models.CheckConstraint(
                condition=~Q(status="declined") | ~Q(decline_reason=""),
                name="proposal_declined_has_reason",
            ),
        ]
        indexes = [
            models.Index(fields=["resource", "status", "decided_at"], name="proposal_history"),
            models.Index(fields=["status", "created_at"], name="proposal_queue"),
        ]

    def __str__(self) -> str:
        return f"Edit of {self.resource}"

    @property
    def is_open(self) -> bool:
        return self.status == ProposalStatus.OPEN


# Related resources, precomputed by manage.py compute_related (resources/related.py).


class RelatedBasis(models.TextChoices):
    READERS = "readers", "Shared readers"
    TOPIC = "topic", "Same topic and tags"


class RelatedResource(models.Model):
    """One of a resource's precomputed neighbours, ranked from 1."""

    resource = models.ForeignKey(Resource, on_delete=models.CASCADE, related_name="neighbours")
    related = models.ForeignKey(Resource, on_delete=models.CASCADE, related_name="neighbour_of")
    rank = models.PositiveSmallIntegerField()
    score = models.FloatField()
    shared_readers = models.PositiveIntegerField(default=0)
    basis = models.CharField(max_length=10, choices=RelatedBasis.choices)

    class Meta:
        ordering = ["resource", "rank"]
        constraints = [
            models.UniqueConstraint(fields=["resource", "rank"], name="related_rank_unique"),
            models.UniqueConstraint(fields=["resource", "related"], name="related_pair_unique"),
            models.CheckConstraint(
                condition=~Q(resource=models.F("related")), name="related_not_itself"
            ),
            choices_check("basis", RelatedBasis, "related_basis_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.resource_id} → {self.related_id} (#{self.rank})"


class ResourceLink(models.Model):
    """Another address of the same resource (a project's repository beside its homepage),
    kept by a moderator, often from an import's "same as #N" line. Its normalised link is a
    duplicate of its resource everywhere (services.find_duplicates)."""

    resource = models.ForeignKey(Resource, on_delete=models.CASCADE, related_name="alternate_links")
    url = models.URLField(max_length=2000)
    normalized_url = models.CharField(max_length=2000, unique=True, editable=False)
    label = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    import_batch = models.ForeignKey(
        ImportBatch,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="alternate_links",
    )
    source_line = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        verbose_name = "alternate link"
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(normalized_url=""), name="alternate_link_normalized_not_empty"
            ),
        ]

    def __str__(self) -> str:
        return self.url
