"""The forms moderators fill in: corrections to a resource, and what a decision needs."""

from collections.abc import Iterable

from django import forms

from core.text import clean_text
from resources.models import Resource
from resources.moderation import REJECTION_REASONS
from resources.normalize import InvalidURL, normalize_url
from resources.services import find_duplicates
from resources.tags import canonical_tags


class ResourceAdminForm(forms.ModelForm):
    """Moderators may correct any field; a changed link is normalised and checked for clashes."""

    url = forms.URLField(
        label="URL",
        max_length=2000,
        assume_scheme="https",
        widget=forms.URLInput(attrs={"class": "vURLField"}),
    )

    class Meta:
        model = Resource
        fields = (
            "title",
            "url",
            "description",
            "resource_type",
            "cost",
            "level",
            "provider",
            "section",
            "tags",
            "is_affiliated",
            "link_broken",
        )

    def clean_title(self) -> str:
        return clean_text(self.cleaned_data["title"])

    def clean_provider(self) -> str:
        return clean_text(self.cleaned_data["provider"])

    def clean_tags(self) -> list[str]:
        return canonical_tags(clean_text(tag) for tag in self.cleaned_data["tags"])

    def clean_url(self) -> str:
        url = self.cleaned_data["url"]
        try:
            normalized = normalize_url(url)
        except InvalidURL as error:
            raise forms.ValidationError(str(error)) from None
        clash = find_duplicates([normalized], exclude_pk=self.instance.pk).get(normalized)
        if clash is not None:
            raise forms.ValidationError(
                "Another resource already has this link: “%(title)s” (#%(pk)s). "
                "Merge the two instead.",
                code="duplicate",
                params={"title": clash.title, "pk": clash.pk},
            )
        self.instance.normalized_url = normalized
        return url


class RejectForm(forms.Form):
    # Not an empty value: a radio whose value is "" would start out chosen.
    ANOTHER_REASON = "another"

    preset = forms.ChoiceField(
        label="Reason",
        choices=[(reason, reason) for reason in REJECTION_REASONS]
        + [(ANOTHER_REASON, "Another reason (write it below)")],
        required=False,
        widget=forms.RadioSelect,
    )
    details = forms.CharField(
        label="Details for the submitter",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text="Sent to the submitter and shown in the public moderation log.",
    )

    def clean(self) -> dict:
        data = super().clean()
        preset, details = data.get("preset", ""), data.get("details", "").strip()
        if preset == self.ANOTHER_REASON:
            preset = ""
        if preset and details:
            data["reason"] = f"{preset}: {details}"
        else:
            data["reason"] = preset or details
        if not data["reason"]:
            raise forms.ValidationError("Choose a reason or write one.")
        return data


class ArchiveForm(forms.Form):
    reason = forms.CharField(
        label="Reason (optional)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text="Shown in the public moderation log.",
    )


class MergeTargetField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Resource) -> str:
        return f"#{obj.pk} {obj.title} ({obj.get_status_display().lower()}) {obj.url}"


class MergeForm(forms.Form):
    target = MergeTargetField(
        label="Keep this resource",
        queryset=Resource.objects.none(),
        required=False,
        empty_label=None,
        widget=forms.RadioSelect,
    )
    target_id = forms.IntegerField(
        label="…or the ID of another resource to keep", required=False, min_value=1
    )

    def __init__(self, *args, candidates: Iterable[int], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["target"].queryset = Resource.objects.filter(pk__in=list(candidates))

    def clean(self) -> dict:
        data = super().clean()
        target = data.get("target")
        if data.get("target_id"):
            target = Resource.objects.filter(pk=data["target_id"]).first()
            if target is None:
                raise forms.ValidationError("There is no resource with this ID.")
        if target is None:
            raise forms.ValidationError("Choose the resource to keep.")
        data["target"] = target
        return data
