"""Headless Chromium on the codebook page: edit with history, conflicts, delete and undo, moves."""

import pytest
from playwright.sync_api import expect

from coding_app import services
from coding_app.models import Code, Coding
from tests.factories import CodingFactory, PostFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def codebook(team):
    theme = services.code_create(project=team.project, name="Skills", colour="#aec7e8")
    sub = services.code_create(project=team.project, name="Skill gaps", parent=theme)
    leaf = services.code_create(project=team.project, name="Digital skills", parent=sub)
    access = services.code_create(project=team.project, name="Access", colour="#ffbb78")
    return {"theme": theme, "sub": sub, "leaf": leaf, "access": access}


@pytest.fixture
def codebook_page(page, live_server, login, team, codebook):
    login(team.supervisor.username)
    page.goto(f"{live_server.url}/p/{team.project.slug}/codebook/")
    page.locator(".cb-row").first.wait_for()
    return page


def row(page, code):
    return page.locator(f'.cb-row[data-code-id="{code.pk}"]')


def test_rename_shows_in_history_and_restore_brings_old_name_back(codebook_page, codebook):
    page = codebook_page
    row(page, codebook["theme"]).locator(".cb-name").click()
    expect(page.locator("#f-name")).to_have_value("Skills")
    page.fill("#f-name", "Skills and abilities")
    page.click("#save")
    expect(page.locator("#status")).to_have_text("Saved “Skills and abilities”.")
    expect(row(page, codebook["theme"])).to_contain_text("Skills and abilities")

    entry = page.locator("#history li").first
    expect(entry).to_contain_text("sam renamed “Skills” to “Skills and abilities”")
    entry.get_by_role("button", name="Restore").click()
    expect(page.locator("#status")).to_contain_text("Restored “Skills”")
    expect(page.locator("#f-name")).to_have_value("Skills")
    expect(page.locator("#history li").first).to_contain_text(
        "sam renamed “Skills and abilities” to “Skills”"
    )
    assert Code.objects.get(pk=codebook["theme"].pk).name == "Skills"


def test_stale_edit_shows_conflict_with_fresh_values_and_keeps_typed_text(
    codebook_page, codebook, team
):
    page = codebook_page
    leaf = codebook["leaf"]
    row(page, leaf).locator(".cb-name").click()
    page.fill("#f-definition", "Using digital tools at work.")
    services.code_update(code=leaf, user=team.admin, version=leaf.version, name="Digital literacy")
    page.click("#save")

    conflict = page.locator("#conflict")
    expect(conflict).to_be_visible()
    expect(conflict).to_contain_text("Someone changed this code meanwhile")
    expect(page.locator("#f-name")).to_have_value("Digital literacy")
    expect(page.locator("#f-definition")).to_have_value("")
    expect(page.locator("#conflict-list")).to_contain_text("Using digital tools at work.")
    expect(page.locator("#conflict-who")).to_contain_text("ada changed it")

    page.click("#conflict-mine")
    page.click("#save")
    expect(page.locator("#status")).to_have_text("Saved “Digital literacy”.")
    leaf.refresh_from_db()
    assert (leaf.name, leaf.definition) == ("Digital literacy", "Using digital tools at work.")


def test_delete_names_what_it_touches_and_undo_restores(codebook_page, codebook, team):
    page = codebook_page
    post = PostFactory(project=team.project)
    CodingFactory(post=post, code=codebook["leaf"], coder=team.coder)
    page.reload()
    row(page, codebook["sub"]).locator(".cb-name").click()
    page.click("#delete-open")
    dialog = page.locator("#delete-dialog")
    expect(dialog).to_contain_text("2 codes in all")
    expect(dialog).to_contain_text("1 coding by 1 coder")
    page.click("#delete-go")

    expect(page.locator("#undo-bar")).to_contain_text("Deleted “Skill gaps”: 2 codes and 1 coding")
    expect(row(page, codebook["sub"])).to_have_count(0)
    assert not Coding.objects.exists()

    page.click("#undo-button")
    expect(row(page, codebook["sub"])).to_have_count(1)
    expect(page.locator("#status")).to_contain_text("Restored “Skill gaps”")
    expect(page.locator("#f-name")).to_have_value("Skill gaps")
    assert Coding.objects.count() == 1 and Code.objects.count() == 4


def test_drag_and_move_select_place_codes_under_another_theme(codebook_page, codebook):
    page = codebook_page
    access = row(page, codebook["access"])
    row(page, codebook["leaf"]).drag_to(access)
    expect(page.locator("#status")).to_have_text("Moved “Digital skills” under “Access”.")
    under_access = page.locator(f'.cb-node:has(> .cb-row[data-code-id="{codebook["access"].pk}"])')
    expect(under_access.locator(".cb-list .cb-name")).to_have_text(["Digital skills"])
    assert Code.objects.get(pk=codebook["leaf"].pk).parent_id == codebook["access"].pk

    # The keyboard way: the Move select in the form.
    row(page, codebook["sub"]).locator(".cb-name").click()
    page.select_option("#move-parent", str(codebook["access"].pk))
    page.click("#move-go")
    expect(page.locator("#status")).to_have_text("Moved “Skill gaps” under “Access”.")
    expect(under_access.locator(":scope > .cb-list > li > .cb-row .cb-name")).to_have_text(
        ["Digital skills", "Skill gaps"]
    )
    expect(page.locator("#history li").first).to_contain_text(
        "sam moved “Skill gaps” under “Access” from “Skills”"
    )
    assert Code.objects.get(pk=codebook["sub"].pk).parent_id == codebook["access"].pk
