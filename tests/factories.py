"""factory_boy factories for the test suite."""

import factory
from django.contrib.auth import get_user_model

from coding_app.models import Code, Coding, Membership, Project
from corpus.importers import content_hash
from corpus.models import Post


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.django.Password("pw-secret-123")


class ProjectFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Project

    slug = factory.Sequence(lambda n: f"project-{n}")
    name = factory.Sequence(lambda n: f"Project {n}")


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    project = factory.SubFactory(ProjectFactory)
    user = factory.SubFactory(UserFactory)
    role = "coder"


class PostFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Post

    project = factory.SubFactory(ProjectFactory)
    text = factory.Sequence(lambda n: f"Post number {n} talks about skills and access to learning.")
    external_id = factory.Sequence(lambda n: f"ext-{n}")
    author = "Test Author"
    content_hash = factory.LazyAttribute(lambda o: content_hash(o.text))
    word_count = factory.LazyAttribute(lambda o: len(o.text.split()))


class CodeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Code

    project = factory.SubFactory(ProjectFactory)
    name = factory.Sequence(lambda n: f"Code {n}")
    colour = "#9ecae1"


class CodingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Coding

    post = factory.SubFactory(PostFactory)
    code = factory.SubFactory(CodeFactory, project=factory.SelfAttribute("..post.project"))
    coder = factory.SubFactory(UserFactory)
    start = 0
    end = 4
    quote = factory.LazyAttribute(lambda o: o.post.text[o.start : o.end])
