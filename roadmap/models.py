from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.urls import reverse

from core.markdown import render_markdown
from core.text import clean_text


class SectionKind(models.TextChoices):
    STEP = "step", "Step on the path"
    PAGE = "page", "Page (prose, not a step)"


class Stage(models.TextChoices):
    FOUNDATIONS = "foundations", "Foundations"
    CORE = "core", "MLOps core"
    PRODUCTION = "production", "Production and beyond"


class Section(models.Model):
    """One node of the roadmap; sections nest (Learning Resources > Courses)."""

    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    position = models.PositiveIntegerField(default=0)
    slug = models.SlugField(max_length=80, unique=True)
    title = models.CharField(max_length=200)
    summary = models.CharField(max_length=300, blank=True)
    body = models.TextField("body (Markdown)", blank=True)
    body_html = models.TextField(editable=False, blank=True)
    kind = models.CharField(max_length=8, choices=SectionKind.choices, default=SectionKind.STEP)
    # A top-level step's stage on the path; below the top, the group it is shown in.
    stage = models.CharField(max_length=12, choices=Stage.choices, blank=True)
    builds_on = models.ManyToManyField(
        "self",
        through="Prerequisite",
        symmetrical=False,
        related_name="leads_to",
        blank=True,
    )
    # An imported heading that matched no section starts unpublished: readers see it once a
    # moderator publishes it or approves one of its resources (resources.sections).
    published = models.BooleanField(
        default=True,
        help_text="Unpublished, it is shown only once one of its resources is approved.",
    )
    import_batch = models.ForeignKey(
        "resources.ImportBatch",
        null=True,
        blank=True,
        editable=False,
        on_delete=models.SET_NULL,
        related_name="sections",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["position", "id"]
        indexes = [models.Index(fields=["parent", "position"])]
        constraints = [
            models.CheckConstraint(
                condition=~Q(parent=models.F("id")), name="section_not_its_own_parent"
            ),
            models.CheckConstraint(
                condition=Q(kind__in=SectionKind.values), name="section_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(stage__in=["", *Stage.values]), name="section_stage_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def save(self, *args, **kwargs) -> None:
        # body_html is a cache of the rendered, sanitised body.
        update_fields = kwargs.get("update_fields")
        if update_fields is None or "body" in update_fields:
            self.body_html = render_markdown(self.body)
        if update_fields is not None and "body" in update_fields:
            kwargs["update_fields"] = {*update_fields, "body_html"}
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("roadmap:section", kwargs={"slug": self.slug})

    def clean(self) -> None:
        self.title = clean_text(self.title)
        self.summary = clean_text(self.summary)
        if self.parent_id is not None and self._would_be_its_own_ancestor():
            raise ValidationError(
                {"parent": "A section cannot be placed inside itself or one of its subsections."}
            )

    def _would_be_its_own_ancestor(self) -> bool:
        seen = set()
        ancestor_id = self.parent_id
        while ancestor_id is not None and ancestor_id not in seen:
            if self.pk is not None and ancestor_id == self.pk:
                return True
            seen.add(ancestor_id)
            ancestor_id = (
                Section.objects.filter(pk=ancestor_id).values_list("parent_id", flat=True).first()
            )
        return ancestor_id is not None  # a cycle above, even if it does not hold this section


class Prerequisite(models.Model):
    """`section` builds on `requires`; `position` keeps the content file's order."""

    section = models.ForeignKey(Section, on_delete=models.CASCADE, related_name="+")
    requires = models.ForeignKey(Section, on_delete=models.CASCADE, related_name="+")
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["section", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["section", "requires"], name="one_prerequisite_link"),
            models.CheckConstraint(
                condition=~Q(section=models.F("requires")), name="section_not_its_own_prerequisite"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.section} builds on {self.requires}"


class Roadmap(models.Model):
    """The roadmap as a whole: its title and introduction. There is exactly one row."""

    title = models.CharField(max_length=200)
    intro = models.TextField("introduction (Markdown)", blank=True)
    intro_html = models.TextField(editable=False, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(pk=1), name="roadmap_singleton")]

    def __str__(self) -> str:
        return self.title

    def save(self, *args, **kwargs) -> None:
        self.pk = 1
        self.intro_html = render_markdown(self.intro)
        super().save(*args, **kwargs)
