"""Two coders coding the same post at the same moment, on real PostgreSQL with real threads:
every acknowledged coding is kept, none is duplicated, removals stick."""

import threading

import pytest
from django.db import connection

from coding_app import services
from coding_app.models import Change, Coding
from tests.factories import PostFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_two_coders_applying_and_removing_on_one_post_keep_every_acknowledged_coding(team, api_for):
    post = PostFactory(project=team.project, text="skills access cost badges trust " * 40)
    codes = [services.code_create(project=team.project, name=f"Code {i}") for i in range(4)]
    coders = team.coders[:2]
    kept: dict[int, set[int]] = {c.pk: set() for c in coders}
    removed: dict[int, set[int]] = {c.pk: set() for c in coders}
    errors = []
    barrier = threading.Barrier(len(coders) * 2)

    def work(coder, offset):
        client = api_for(coder)
        barrier.wait()
        try:
            for i in range(30):
                start = (i * 7 + offset) % 1000
                body = {"post": post.pk, "code": codes[i % 4].pk, "start": start, "end": start + 5}
                response = client.post("/api/codings/", body, format="json")
                if response.status_code not in (200, 201):
                    errors.append(response.content)
                    continue
                coding_id = response.json()["id"]
                kept[coder.pk].add(coding_id)
                if i % 5 == 4:  # remove every fifth one again
                    gone = client.delete(f"/api/codings/{coding_id}/")
                    if gone.status_code == 204:
                        kept[coder.pk].discard(coding_id)
                        removed[coder.pk].add(coding_id)
                    elif gone.status_code != 404:  # the twin thread removed it first
                        errors.append(gone.content)
        finally:
            connection.close()

    # Two threads per coder, the same spans: identical applies race on the unique constraint.
    threads = [threading.Thread(target=work, args=(c, k % 1)) for c in coders for k in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    for coder in coders:
        mine = set(Coding.objects.filter(coder=coder).values_list("pk", flat=True))
        assert kept[coder.pk] - removed[coder.pk] <= mine
        assert not (removed[coder.pk] & mine)
    spans = list(Coding.objects.values_list("post", "code", "coder", "start", "end"))
    assert len(spans) == len(set(spans))
    # Every coding that exists was announced once in the change feed.
    added = Change.objects.filter(kind="coding.add").values_list("coding_id", flat=True)
    assert set(Coding.objects.values_list("pk", flat=True)) <= set(added)
    assert len(list(added)) == len(set(added))
