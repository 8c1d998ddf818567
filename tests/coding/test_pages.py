"""Server-rendered pages: login, project posts, code quotes, imports, static files, escaping."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from coding_app import services
from corpus.models import ImportBatch
from tests.factories import CodeFactory, CodingFactory, PostFactory

pytestmark = pytest.mark.django_db


def test_wrong_password_shows_login_form_again_with_error(client, team):
    response = client.post("/login/", {"username": team.coder.username, "password": "nope"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "didn't match" in html
    assert 'name="password"' in html


def test_login_redirects_to_project_list(client, team):
    response = client.post(
        "/login/", {"username": team.coder.username, "password": "pw-secret-123"}
    )
    assert response.status_code == 302
    assert team.project.name in client.get("/").content.decode()


def test_pages_need_login(client, team):
    response = client.get(f"/p/{team.project.slug}/")
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_project_page_paginates_and_searches_posts(client, team):
    for i in range(30):
        PostFactory(
            project=team.project, text=f"Post {i} about {'badges' if i % 10 == 0 else 'skills'}"
        )
    client.force_login(team.coder)
    first = client.get(f"/p/{team.project.slug}/").content.decode()
    assert "30 posts." in first and "Page 1 of 2" in first
    assert "Page 2 of 2" in client.get(f"/p/{team.project.slug}/?page=2").content.decode()
    found = client.get(f"/p/{team.project.slug}/?q=badges").content.decode()
    assert "3 of 30 posts match." in found


def test_project_page_shortens_a_long_post_id_and_gives_it_whole_on_hover(client, team):
    """LinkedIn's ids all start "urn:li:share:73…": the list shows their start and end, the
    end being what differs, and no longer gives them a third of the table."""
    PostFactory(project=team.project, external_id="urn:li:share:7345821826846990338")
    PostFactory(project=team.project, external_id="p-17")
    PostFactory(project=team.project, external_id="videos_selection")
    client.force_login(team.coder)
    page = client.get(f"/p/{team.project.slug}/").content.decode()
    assert 'title="urn:li:share:7345821826846990338">urn:li…6846990338</td>' in page
    assert 'title="p-17">p-17</td>' in page
    assert 'title="videos_selection">videos_selection</td>' in page
    # A filter that matches nothing says so without quoting an empty search.
    page = client.get(f"/p/{team.project.slug}/?mine=1").content.decode()
    assert "No post matches these filters." in page and "“”" not in page


def test_an_empty_codebook_points_a_supervisor_to_the_codebook_page(client, team):
    client.force_login(team.supervisor)
    page = client.get("/p/study/").content.decode()
    assert 'Build the codebook on the <a href="/p/study/codebook/">Codebook</a> page' in page
    client.force_login(team.coder)
    page = client.get("/p/study/").content.decode()
    assert "A supervisor adds the first themes and codes." in page
    assert '/p/study/codebook/">Codebook</a> page' not in page
    # Beside a post, a coder who may add codes is told how.
    post = PostFactory(project=team.project)
    team.project.coders_create_codes = True
    team.project.save()
    page = client.get(f"/p/study/posts/{post.pk}/").content.decode()
    assert "Select a passage of the post and type a name to add the first code." in page
    team.project.coders_create_codes = False
    team.project.save()
    page = client.get(f"/p/study/posts/{post.pk}/").content.decode()
    assert "A supervisor adds the first themes and codes." in page


def test_non_member_gets_404_pages(client, team):
    post = PostFactory(project=team.project)
    code = CodeFactory(project=team.project)
    client.force_login(team.outsider)
    for url in [
        f"/p/{team.project.slug}/",
        f"/p/{team.project.slug}/posts/{post.pk}/",
        f"/p/{team.project.slug}/codes/{code.pk}/",
        f"/p/{team.project.slug}/imports/",
    ]:
        assert client.get(url).status_code == 404, url


def test_post_of_other_project_is_404_under_this_slug(client, team):
    foreign = PostFactory()
    client.force_login(team.coder)
    assert client.get(f"/p/{team.project.slug}/posts/{foreign.pk}/").status_code == 404


def test_code_page_lists_quotes_of_sub_codes_with_link_to_post(client, team):
    theme = services.code_create(project=team.project, name="Skills")
    leaf = services.code_create(project=team.project, name="Digital skills", parent=theme)
    post = PostFactory(project=team.project, text="Employers want digital skills now.")
    coding, _ = services.coding_apply(post=post, code=leaf, coder=team.coder, start=15, end=29)
    client.force_login(team.supervisor)
    html = client.get(f"/p/{team.project.slug}/codes/{theme.pk}/").content.decode()
    assert "digital skills" in html
    assert f"/p/{team.project.slug}/posts/{post.pk}/#coding-{coding.pk}" in html


def test_user_text_is_escaped_everywhere(client, team):
    evil = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    post = PostFactory(project=team.project, text=f"Skills {evil} matter", author=evil)
    code = CodeFactory(project=team.project, name=evil)
    CodingFactory(post=post, code=code, coder=team.coder, start=0, end=20)
    client.force_login(team.coder)
    for url in [
        f"/p/{team.project.slug}/",
        f"/p/{team.project.slug}/posts/{post.pk}/",
        f"/p/{team.project.slug}/codes/{code.pk}/",
    ]:
        html = client.get(url).content.decode()
        assert "<script>alert" not in html, url
        assert "<img src=x" not in html, url


def test_import_page_upload_is_admin_only(client, team, django_capture_on_commit_callbacks):
    url = f"/p/{team.project.slug}/imports/"
    client.force_login(team.supervisor)
    upload = SimpleUploadedFile("p.csv", b"text\nSkills and access\n")
    assert client.post(url, {"file": upload}).status_code == 403
    assert not ImportBatch.objects.exists()
    client.force_login(team.admin)
    upload = SimpleUploadedFile("p.csv", b"body,who\nSkills and access,Ann\n")
    response = client.post(url, {"file": upload})
    batch = ImportBatch.objects.get()
    assert response["Location"] == f"{url}{batch.pk}/mapping/"
    mapping_page = client.get(response["Location"]).content.decode()
    assert "Skills and access" in mapping_page  # the preview of the first rows
    assert '<option value="body" selected>' in mapping_page  # detected text column
    client.force_login(team.supervisor)
    assert client.post(response["Location"], {"map_text": "body"}).status_code == 403
    client.force_login(team.admin)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(response["Location"], {"map_text": "body", "map_author": "who"})
    html = client.get(url).content.decode()
    assert "Succeeded" in html and "p.csv" in html
    from corpus.models import Post

    assert Post.objects.get().author == "Ann"


def test_d3_is_served_from_npm_as_static_file(client):
    from django.contrib.staticfiles import finders

    path = finders.find("vendor/d3/d3.min.js")
    assert path and "node_modules" in path
    assert finders.find("vendor/d3-cloud/d3.layout.cloud.js")


def test_healthz(client):
    assert client.get("/healthz").json() == {"status": "ok"}


def test_admin_lists_projects_and_memberships(client, team):
    team.admin.is_staff = team.admin.is_superuser = True
    team.admin.save()
    client.force_login(team.admin)
    for url in ["/admin/coding_app/project/", "/admin/coding_app/membership/", "/admin/auth/user/"]:
        assert client.get(url).status_code == 200, url


def test_post_page_walks_the_coders_queue(client, team):
    from coding_app.models import Assignment

    posts = [PostFactory(project=team.project) for _ in range(3)]
    Assignment.objects.create(post=posts[2], coder=team.coder, position=0)
    Assignment.objects.create(post=posts[0], coder=team.coder, position=1)
    client.force_login(team.coder)
    html = client.get(f"/p/{team.project.slug}/posts/{posts[2].pk}/").content.decode()
    assert "Post 1 of 2 in my queue" in html
    assert f'href="/p/{team.project.slug}/posts/{posts[0].pk}/" id="next-post"' in html
    queue = client.get(f"/p/{team.project.slug}/queue/").content.decode()
    assert "0 of 2" in queue
    assert (
        f'href="/p/{team.project.slug}/posts/{posts[2].pk}/?queue=1">Start coding: post 1' in queue
    )
    # Once the first is coded, the queue carries on from the next one; then it says it is done.
    CodingFactory(post=posts[2], coder=team.coder, code=CodeFactory(project=team.project))
    queue = client.get(f"/p/{team.project.slug}/queue/").content.decode()
    assert f'href="/p/{team.project.slug}/posts/{posts[0].pk}/?queue=1">Carry on: post 2' in queue
    CodingFactory(post=posts[0], coder=team.coder, code=CodeFactory(project=team.project))
    queue = client.get(f"/p/{team.project.slug}/queue/").content.decode()
    assert "Every post in your queue is coded." in queue and 'id="queue-next"' not in queue


def test_a_long_quote_opens_on_request_on_the_code_page(client, team):
    """A coding of a whole essay (NVivo codes whole comments) shows its first 80 words and
    opens whole on request; a short quote is shown whole."""
    essay = " ".join(f"word{i}" for i in range(300))
    post = PostFactory(project=team.project, text=essay + " Short one.")
    code = CodeFactory(project=team.project, name="Essays")
    CodingFactory(post=post, code=code, coder=team.coder, start=0, end=len(essay))
    CodingFactory(post=post, code=code, coder=team.coder, start=len(essay) + 1, end=len(essay) + 11)
    client.force_login(team.supervisor)
    page = client.get(f"/p/{team.project.slug}/codes/{code.pk}/").content.decode()
    assert '<span class="excerpt">word0 ' in page and " word79 …</span>" in page
    assert "Show the whole quote (300 words)" in page
    assert f'<div class="whole">{essay}</div>' in page
    assert ">Short one.</blockquote>" in page
