import re

from django import forms
from taggit.forms import TagField
from taggit.utils import edit_string_for_tags

from core.text import clean_text
from resources.models import (
    EDITABLE_FIELDS,
    Cost,
    FlagReason,
    Level,
    Resource,
    ResourceType,
    Status,
    section_model,
)
from resources.normalize import InvalidURL, normalize_url
from resources.sections import flatten, section_tree
from resources.services import LookAlike, find_same_as
from resources.tags import CANONICAL_TAGS, canonical_tags

MAX_TAGS = 5
MAX_TAG_LENGTH = 30
TAG_PATTERN = re.compile(r"^[a-z0-9][a-z0-9+.#-]*$")


class SectionChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, section) -> str:
        return ("— " * getattr(section, "tree_depth", 0)) + section.title


def section_choices(keep=None):
    """Sections in roadmap reading order, each knowing its depth for indentation. Prose-only
    pages (`kind: page` in the content file, such as What is MLOps?) and top-level sections
    with neither resources nor sub-sections are left out, except `keep` (a section id)."""
    tree = section_tree()
    prose_only = {
        node.section.pk
        for node in tree
        if not node.children and not node.resource_count and node.section.pk != keep
    }
    if len(prose_only) == len(tree):  # a roadmap with nothing in it yet: offer everything
        prose_only = set()
    pages = {  # roadmap.models.SectionKind.PAGE, named by value: resources sits below roadmap
        node.section.pk
        for node in flatten(tree)
        if node.section.kind == "page" and node.section.pk != keep
    }
    prose_only |= pages
    ordered = []
    for node in flatten(tree):
        if node.section.pk not in prose_only:
            node.section.tree_depth = node.depth
            ordered.append(node.section)
    return ordered


def clean_url_field(url: str) -> str:
    """A link a reader typed, refused unless it normalises and is http or https."""
    try:
        normalize_url(url)
    except InvalidURL as error:
        raise forms.ValidationError(str(error)) from error
    if not url.lower().startswith(("http://", "https://")):
        raise forms.ValidationError("Only http and https links are accepted.")
    return url


class SuggestionForm(forms.Form):
    title = forms.CharField(max_length=200, min_length=3)
    url = forms.CharField(
        label="Link",
        max_length=2000,
        widget=forms.URLInput(attrs={"placeholder": "https://", "inputmode": "url"}),
        help_text="The page itself, starting with http:// or https://.",
    )
    resource_type = forms.ChoiceField(
        label="Type", choices=[("", "Choose a type"), *ResourceType.choices]
    )
    section = SectionChoiceField(
        queryset=section_model().objects.all(),
        empty_label=None,
        help_text="Where on the roadmap it belongs.",
    )
    tags = TagField(
        required=False,
        help_text=(
            f"Up to {MAX_TAGS}, separated by commas, e.g. mlflow, monitoring. Other spellings "
            "of a site tag are folded into it: case-studies becomes case-study."
        ),
    )
    cost = forms.ChoiceField(choices=[("", "Choose what it costs"), *Cost.choices])
    level = forms.ChoiceField(choices=[("", "Not specified"), *Level.choices], required=False)
    provider = forms.CharField(label="Provider or author", max_length=200, required=False)
    description = forms.CharField(
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="One or two sentences on why it is worth someone's time. Markdown is allowed.",
    )
    is_affiliated = forms.BooleanField(
        label="I am the author or affiliated with it",
        required=False,
        help_text="Moderators see this, and it is shown publicly as a disclosure.",
    )
    # Shown (as a checkbox) only once the form has said "this looks like #N".
    not_the_same = forms.BooleanField(
        label="It is a different resource",
        required=False,
        widget=forms.HiddenInput,
        help_text="Tick this if yours is not the resource it looks like.",
    )

    tag_vocabulary = CANONICAL_TAGS

    def __init__(self, *args, keep_section=None, exclude_pk: int | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.exclude_pk = exclude_pk
        self.looks_like: Resource | None = None
        # The browser offers the site's tags while typing the first one (no JavaScript).
        if self.auto_id:
            tags_id = self.auto_id % self.add_prefix("tags")
            self.fields["tags"].widget.attrs["list"] = f"{tags_id}_vocabulary"
        sections = section_choices(keep=keep_section)
        self.fields["section"].queryset = section_model().objects.filter(
            pk__in=[section.pk for section in sections]
        )
        # Reading order and indentation without a query per option.
        self.fields["section"].choices = [("", "Choose where it belongs")] + [
            (section.pk, self.fields["section"].label_from_instance(section))
            for section in sections
        ]

    def clean_title(self) -> str:
        title = clean_text(self.cleaned_data["title"])
        if len(title) < 3:
            raise forms.ValidationError("Give the resource a title of at least 3 characters.")
        return title

    def clean_provider(self) -> str:
        return clean_text(self.cleaned_data["provider"])

    def clean_description(self) -> str:
        return clean_text(self.cleaned_data["description"].replace("\r\n", "\n"))

    def clean_url(self) -> str:
        return clean_url_field(self.cleaned_data["url"].strip())

    def clean(self):
        cleaned = super().clean()
        url, title = cleaned.get("url"), cleaned.get("title")
        if url and title and not cleaned.get("not_the_same"):
            self._check_look_alike(url, title)
        return cleaned

    def _check_look_alike(self, url: str, title: str) -> None:
        """The same check as the importer's (services.find_same_as); the same link is left to
        submit_resource, and only resources on the roadmap are named, never others' pending
        suggestions."""
        found = find_same_as(
            [LookAlike(normalize_url(url), url, title)], exclude_pk=self.exclude_pk
        ).get(0)
        if found is None or found.why == "same link" or found.resource.status != Status.APPROVED:
            return
        self.looks_like = found.resource
        self.fields["not_the_same"].widget = forms.CheckboxInput()
        self.add_error(
            None,
            f"This looks like #{found.resource.pk} “{found.resource.title}” ({found.why}), "
            f"which is already on the roadmap at {found.resource.get_absolute_url()}. If yours is "
            "a different resource, tick “It is a different resource” and submit again.",
        )

    def clean_tags(self) -> list[str]:
        tags = sorted(canonical_tags(clean_text(tag) for tag in self.cleaned_data["tags"]))
        if len(tags) > MAX_TAGS:
            raise forms.ValidationError(f"Use at most {MAX_TAGS} tags.")
        for tag in tags:
            if len(tag) > MAX_TAG_LENGTH or not TAG_PATTERN.match(tag):
                raise forms.ValidationError(
                    f"“{tag[:40]}” is not a valid tag: use lower-case letters, digits and "
                    f"hyphens, at most {MAX_TAG_LENGTH} characters."
                )
        return tags

    @classmethod
    def initial_for(cls, resource: Resource) -> dict:
        return {
            "title": resource.title,
            "url": resource.url,
            "resource_type": resource.resource_type,
            "section": resource.section_id,
            "tags": edit_string_for_tags(list(resource.tags.all())),
            "cost": resource.cost,
            "level": resource.level,
            "provider": resource.provider,
            "description": resource.description,
            "is_affiliated": resource.is_affiliated,
        }


class FlagForm(forms.Form):
    reason = forms.ChoiceField(choices=FlagReason.choices, widget=forms.RadioSelect)
    note = forms.CharField(
        max_length=1000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Required when you choose “Other”.",
    )
    # A report can carry its fix, which moderators receive as a suggested edit.
    new_url = forms.CharField(
        label="Where it moved (optional)",
        max_length=2000,
        required=False,
        widget=forms.URLInput(attrs={"placeholder": "https://", "inputmode": "url"}),
        help_text="With “Broken link”: the new address, if you found it.",
    )
    correct_cost = forms.ChoiceField(
        label="What it really costs (optional)",
        choices=[("", "I don't know"), *Cost.choices],
        required=False,
        help_text="With “Not free as stated”.",
    )

    def clean_note(self) -> str:
        return clean_text(self.cleaned_data["note"])

    def clean_new_url(self) -> str:
        url = self.cleaned_data["new_url"].strip()
        if url:
            url = clean_url_field(url)
        return url

    def clean(self):
        cleaned = super().clean()
        reason = cleaned.get("reason")
        if reason == FlagReason.OTHER and not cleaned.get("note"):
            self.add_error("note", "Please say what is wrong when you choose “Other”.")
        if cleaned.get("new_url") and reason != FlagReason.BROKEN_LINK:
            self.add_error("new_url", "A new address goes with the reason “Broken link”.")
        if cleaned.get("correct_cost") and reason != FlagReason.NOT_FREE:
            self.add_error("correct_cost", "A cost goes with the reason “Not free as stated”.")
        return cleaned

    def fix(self) -> dict:
        """The correction the report carries, as suggested-edit changes (empty: none)."""
        fix = {}
        if url := self.cleaned_data.get("new_url"):
            fix["url"] = url
        if cost := self.cleaned_data.get("correct_cost"):
            fix["cost"] = cost
        return fix


class VoteForm(forms.Form):
    value = forms.ChoiceField(choices=[("up", "Up"), ("down", "Down")])

    def clean_value(self) -> int:
        return 1 if self.cleaned_data["value"] == "up" else -1


class EditProposalForm(SuggestionForm):
    """A suggested edit of a published resource: its fields, and why."""

    reason = forms.CharField(
        label="Why this change",
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="A sentence for the moderators, e.g. “The course moved to a new address.”",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        del self.fields["is_affiliated"]  # a disclosure by the submitter, not a fact to edit

    def clean_reason(self) -> str:
        reason = clean_text(self.cleaned_data["reason"])
        if not reason:
            raise forms.ValidationError("Say in a few words why the change is right.")
        return reason

    def changes(self) -> dict:
        return {name: self.cleaned_data[name] for name in EDITABLE_FIELDS if name in self.fields}
