import re

from django import forms
from taggit.forms import TagField
from taggit.utils import edit_string_for_tags

from core.text import clean_text
from resources.models import (
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

MAX_TAGS = 5
MAX_TAG_LENGTH = 30
TAG_PATTERN = re.compile(r"^[a-z0-9][a-z0-9+.#-]*$")


class SectionChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, section) -> str:
        return ("— " * getattr(section, "tree_depth", 0)) + section.title


def section_choices():
    """Sections in roadmap reading order, each knowing its depth for indentation."""
    ordered = []
    for node in flatten(section_tree()):
        node.section.tree_depth = node.depth
        ordered.append(node.section)
    return ordered


class SuggestionForm(forms.Form):
    title = forms.CharField(max_length=200, min_length=3)
    url = forms.CharField(
        label="Link",
        max_length=2000,
        widget=forms.URLInput(attrs={"placeholder": "https://", "inputmode": "url"}),
        help_text="The page itself, starting with http:// or https://.",
    )
    resource_type = forms.ChoiceField(label="Type", choices=ResourceType.choices)
    section = SectionChoiceField(
        queryset=section_model().objects.all(),
        empty_label=None,
        help_text="Where on the roadmap it belongs.",
    )
    tags = TagField(
        required=False,
        help_text=f"Up to {MAX_TAGS}, separated by commas, e.g. mlflow, monitoring.",
    )
    cost = forms.ChoiceField(choices=Cost.choices, initial=Cost.FREE)
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

    def __init__(self, *args, exclude_pk: int | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.exclude_pk = exclude_pk
        self.looks_like: Resource | None = None
        sections = section_choices()
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
        url = self.cleaned_data["url"].strip()
        try:
            normalize_url(url)
        except InvalidURL as error:
            raise forms.ValidationError(str(error)) from error
        if not url.lower().startswith(("http://", "https://")):
            raise forms.ValidationError("Only http and https links are accepted.")
        return url

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
        tags = [clean_text(tag).lower() for tag in self.cleaned_data["tags"]]
        tags = sorted({tag for tag in tags if tag})
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

    def clean_note(self) -> str:
        return clean_text(self.cleaned_data["note"])

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("reason") == FlagReason.OTHER and not cleaned.get("note"):
            self.add_error("note", "Please say what is wrong when you choose “Other”.")
        return cleaned


class VoteForm(forms.Form):
    value = forms.ChoiceField(choices=[("up", "Up"), ("down", "Down")])

    def clean_value(self) -> int:
        return 1 if self.cleaned_data["value"] == "up" else -1
