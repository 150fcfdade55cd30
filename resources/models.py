from django.conf import settings
from django.db import models
from django.db.models import Prefetch, Q
from django.urls import reverse
from taggit.managers import TaggableManager

from roadmap.markdown import render_markdown


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


class Level(models.TextChoices):
    BEGINNER = "beginner", "Beginner"
    INTERMEDIATE = "intermediate", "Intermediate"
    ADVANCED = "advanced", "Advanced"


class Status(models.TextChoices):
    PENDING = "pending", "Pending review"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"


def choices_check(field: str, choices: type[models.TextChoices], name: str, blank=False):
    values = list(choices.values) + ([""] if blank else [])
    return models.CheckConstraint(condition=Q(**{f"{field}__in": values}), name=name)


class ResourceQuerySet(models.QuerySet):
    def approved(self) -> "ResourceQuerySet":
        """The only resources the public ever sees."""
        return self.filter(status=Status.APPROVED)

    def for_section(self, section) -> "ResourceQuerySet":
        return self.filter(section=section)

    def for_cards(self) -> "ResourceQuerySet":
        """Everything a resource card shows, in a fixed number of queries."""
        return self.select_related("section", "submitted_by").prefetch_related(
            Prefetch("tags", to_attr="tag_list")
        )

    def order_by_top(self) -> "ResourceQuerySet":
        return self.order_by("-wilson_score", "-created_at", "-id")

    def order_by_new(self) -> "ResourceQuerySet":
        return self.order_by("-created_at", "-id")


class Resource(models.Model):
    """A link to something worth learning from, suggested by someone and reviewed."""

    title = models.CharField(max_length=200)
    url = models.URLField("URL", max_length=2000)
    normalized_url = models.CharField(max_length=2000, unique=True, editable=False)
    description = models.TextField(blank=True)
    description_html = models.TextField(blank=True, editable=False)
    resource_type = models.CharField("type", max_length=20, choices=ResourceType.choices)
    cost = models.CharField(max_length=10, choices=Cost.choices, default=Cost.FREE)
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
    # Vote tallies are a cache of the Vote rows, rewritten under a row lock on every vote,
    # so that sections can be ordered by an index instead of aggregating votes per request.
    upvotes = models.PositiveIntegerField(default=0, editable=False)
    downvotes = models.PositiveIntegerField(default=0, editable=False)
    wilson_score = models.FloatField(default=0.0, editable=False)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    approved_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = ResourceQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["section", "status", "-wilson_score", "-created_at"],
                name="resource_section_top",
            ),
            models.Index(fields=["status", "-created_at"], name="resource_status_new"),
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
        ]

    def __str__(self) -> str:
        return self.title

    def save(self, *args, **kwargs) -> None:
        # description_html is a cache of the rendered, sanitised description.
        self.description_html = render_markdown(self.description)
        if kwargs.get("update_fields") is not None and "description" in kwargs["update_fields"]:
            kwargs["update_fields"] = {*kwargs["update_fields"], "description_html"}
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("resources:detail", kwargs={"pk": self.pk})

    @property
    def score(self) -> int:
        return self.upvotes - self.downvotes

    @property
    def is_public(self) -> bool:
        return self.status == Status.APPROVED


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
