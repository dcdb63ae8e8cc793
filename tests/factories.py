"""factory_boy factories. Cases are created through the service, like in the app."""

from datetime import timedelta

import factory
from django.contrib.auth import get_user_model

from config import clock
from flows import access
from flows.engine import services
from flows.models import Case


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.test")
    first_name = factory.Faker("first_name", locale="fr_FR")
    last_name = factory.Faker("last_name", locale="fr_FR")

    @factory.post_generation
    def role(user, create, extracted, **kwargs):
        if create:
            access.set_role(user, extracted or access.MEMBER)


class CaseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Case

    title = factory.Sequence(lambda n: f"Projet {n}")
    company = factory.Faker("company", locale="fr_FR")
    contact_name = factory.Faker("name", locale="fr_FR")
    email = factory.Sequence(lambda n: f"contact{n}@client.test")
    phone = ""
    amount = None
    # Every open case carries a next action and its due date (flow setting,
    # on by default): a week ahead, so it is neither overdue nor due today.
    next_action = "Rappeler le client"
    next_action_due = factory.LazyFunction(lambda: clock.today() + timedelta(days=7))

    @classmethod
    def _create(cls, model_class, *args, flow, owner=None, user=None, **kwargs):
        return services.create_case(
            flow=flow, user=user or owner, owner=owner, **kwargs
        )
