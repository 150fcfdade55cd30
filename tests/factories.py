import factory
from allauth.account.models import EmailAddress
from django.utils import timezone

from accounts.models import User
from resources.models import Resource, Status, Vote
from resources.normalize import normalize_url
from roadmap.models import Section


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.com")
    password = factory.django.Password("correct horse battery staple")


class SectionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Section

    slug = factory.Sequence(lambda n: f"section-{n}")
    title = factory.Sequence(lambda n: f"Section {n}")
    summary = "A part of the roadmap."
    body = "Some *prose* about this part."
    position = factory.Sequence(lambda n: n)


class ResourceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Resource
        skip_postgeneration_save = True

    title = factory.Sequence(lambda n: f"Resource {n}")
    url = factory.Sequence(lambda n: f"https://example.com/resource/{n}")
    # Link-check tests point resources at their own server on 127.0.0.1.
    normalized_url = factory.LazyAttribute(
        lambda resource: normalize_url(resource.url, allow_private_hosts=True)
    )
    description = "A useful thing to read."
    resource_type = "article"
    cost = "free"
    section = factory.SubFactory(SectionFactory)
    status = Status.APPROVED
    approved_at = factory.LazyFunction(timezone.now)

    @factory.post_generation
    def tags(self, create, extracted, **kwargs):
        if create and extracted:
            self.tags.set(extracted)


class VoteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Vote

    user = factory.SubFactory(UserFactory)
    resource = factory.SubFactory(ResourceFactory)
    value = Vote.UP


class EmailAddressFactory(factory.django.DjangoModelFactory):
    """The user's primary allauth address; made again, it is updated, never duplicated."""

    class Meta:
        model = EmailAddress

    user = factory.SubFactory(UserFactory)
    email = factory.SelfAttribute("user.email")
    verified = True
    primary = True

    @classmethod
    def _create(cls, model_class, *, user, email, **fields):
        address, _ = model_class.objects.update_or_create(user=user, email=email, defaults=fields)
        return address


class VerifiedUserFactory(UserFactory):
    """A member whose primary email address allauth considers verified."""

    email_address = factory.RelatedFactory(
        EmailAddressFactory, factory_related_name="user", verified=True
    )


class UnverifiedUserFactory(UserFactory):
    """A member who signed up but has not followed the link in the verification mail."""

    email_address = factory.RelatedFactory(
        EmailAddressFactory, factory_related_name="user", verified=False
    )
