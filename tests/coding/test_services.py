"""Coding services on PostgreSQL: applying codings, offsets, validation, the code tree."""

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from coding_app import selectors, services
from coding_app.access import AccessDenied
from coding_app.models import Coding
from tests.factories import CodeFactory, PostFactory

# Each case: a post text and the exact passage a coder selects in it.
UNICODE_CASES = [
    (
        "after an emoji",
        "Great news 🎓🚀 our micro-credential pilot starts today!",
        "our micro-credential",
    ),
    (
        "combining accents",
        "Cafe\u0301 owners and Zoe\u0308 say the re\u0301sume\u0301 matters",
        "Zoë say the résumé",
    ),
    (
        "right-to-left",
        "Skills matter. المهارات الرقمية مهمة جدا للعمل. Access too.",
        "الرقمية مهمة",
    ),
    ("mathematical bold", "𝗪𝗛𝗔𝗧? A 10-day course. 𝗪𝗛𝗬? Skills for access.", "𝗪𝗛𝗬? Skills"),
]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("case", "text", "passage"), UNICODE_CASES, ids=[c[0] for c in UNICODE_CASES]
)
def test_coding_apply_quote_is_exact_passage_with_unicode(team, case, text, passage):
    import unicodedata

    text = unicodedata.normalize("NFC", text)
    passage = unicodedata.normalize("NFC", passage)
    post = PostFactory(project=team.project, text=text)
    code = CodeFactory(project=team.project)
    start = text.index(passage)  # Python indexes str by code point, like the API
    coding, created = services.coding_apply(
        post=post, code=code, coder=team.coder, start=start, end=start + len(passage)
    )
    assert created
    assert coding.quote == passage
    assert Coding.objects.get(pk=coding.pk).quote == post.text[coding.start : coding.end]


@pytest.mark.django_db
def test_coding_apply_twice_keeps_one_coding(team):
    post = PostFactory(project=team.project)
    code = CodeFactory(project=team.project)
    first, created1 = services.coding_apply(post=post, code=code, coder=team.coder, start=0, end=4)
    second, created2 = services.coding_apply(post=post, code=code, coder=team.coder, start=0, end=4)
    assert (created1, created2) == (True, False)
    assert first.pk == second.pk
    assert Coding.objects.count() == 1


@pytest.mark.django_db
def test_coding_apply_same_span_by_two_coders_keeps_both(team):
    post = PostFactory(project=team.project)
    code = CodeFactory(project=team.project)
    services.coding_apply(post=post, code=code, coder=team.coders[0], start=0, end=4)
    services.coding_apply(post=post, code=code, coder=team.coders[1], start=0, end=4)
    assert Coding.objects.filter(post=post).count() == 2


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("start", "end", "field"),
    [(5, 5, "end"), (7, 3, "end"), (0, 10_000, "end"), (-1, 3, "start")],
)
def test_coding_apply_rejects_bad_span_with_field_message(team, start, end, field):
    post = PostFactory(project=team.project)
    code = CodeFactory(project=team.project)
    with pytest.raises(ValidationError) as info:
        services.coding_apply(post=post, code=code, coder=team.coder, start=start, end=end)
    assert field in info.value.message_dict
    assert Coding.objects.count() == 0


@pytest.mark.django_db
def test_coding_apply_rejects_code_of_another_project(team):
    post = PostFactory(project=team.project)
    foreign = CodeFactory()
    with pytest.raises(ValidationError) as info:
        services.coding_apply(post=post, code=foreign, coder=team.coder, start=0, end=4)
    assert "another project" in info.value.message_dict["code"][0]


@pytest.mark.django_db
def test_database_refuses_coding_with_start_not_before_end(team):
    post = PostFactory(project=team.project)
    code = CodeFactory(project=team.project)
    with pytest.raises(IntegrityError), transaction.atomic():
        Coding.objects.create(post=post, code=code, coder=team.coder, start=4, end=4, quote="")


@pytest.mark.django_db
def test_coding_remove_refuses_another_coders_coding(team):
    post = PostFactory(project=team.project)
    code = CodeFactory(project=team.project)
    coding, _ = services.coding_apply(post=post, code=code, coder=team.coders[0], start=0, end=4)
    with pytest.raises(AccessDenied):
        services.coding_remove(coding=coding, user=team.coders[1])
    services.coding_remove(coding=coding, user=team.coders[0])
    assert not Coding.objects.exists()


@pytest.mark.django_db
def test_code_create_refuses_duplicate_sibling_name_case_insensitively(team):
    theme = services.code_create(project=team.project, name="Skills")
    services.code_create(project=team.project, name="Gaps", parent=theme)
    with pytest.raises(ValidationError):
        services.code_create(project=team.project, name="gaps", parent=theme)
    with pytest.raises(ValidationError):
        services.code_create(project=team.project, name="  SKILLS ")
    # The same name under another parent is fine.
    other = services.code_create(project=team.project, name="Access")
    assert services.code_create(project=team.project, name="Gaps", parent=other).pk


@pytest.mark.django_db
def test_code_tree_nests_and_labels_levels(team):
    theme = services.code_create(project=team.project, name="Skills")
    sub = services.code_create(project=team.project, name="Gaps", parent=theme)
    leaf = services.code_create(project=team.project, name="Digital", parent=sub)
    tree = selectors.code_tree(project=team.project)
    assert [n["name"] for n in tree] == ["Skills"]
    assert tree[0]["level"] == "theme"
    assert tree[0]["children"][0]["level"] == "sub-theme"
    assert tree[0]["children"][0]["children"][0]["path"] == ["Skills", "Gaps", "Digital"]
    assert tree[0]["children"][0]["children"][0]["level"] == "code"
    assert set(selectors.code_descendant_ids(code=theme)) == {theme.pk, sub.pk, leaf.pk}


@pytest.mark.django_db
def test_quote_list_of_theme_includes_sub_theme_codes_and_respects_blind_mode(team):
    from coding_app.access import project_access

    theme = services.code_create(project=team.project, name="Skills")
    leaf = services.code_create(project=team.project, name="Digital", parent=theme)
    post = PostFactory(project=team.project)
    services.coding_apply(post=post, code=leaf, coder=team.coders[0], start=0, end=4)
    services.coding_apply(post=post, code=theme, coder=team.coders[1], start=5, end=11)

    as_coder = project_access(team.coders[0], team.project)
    assert selectors.quote_list(membership=as_coder, code=theme).count() == 2
    team.project.blind_coding = True
    team.project.save()
    as_coder = project_access(team.coders[0], team.project)
    assert [c.coder for c in selectors.quote_list(membership=as_coder, code=theme)] == [
        team.coders[0]
    ]
    as_supervisor = project_access(team.supervisor, team.project)
    assert selectors.quote_list(membership=as_supervisor, code=theme).count() == 2
