"""`manage.py load_demo`: load the illustrative demo project (idempotent)."""

import json
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from coding_app import services
from coding_app.models import Code, Project
from corpus.importers import RawRow, normalize_row
from corpus.models import ImportBatch, JobStatus, Post

DEMO_FILE = Path(__file__).resolve().parents[2] / "demo" / "demo.json"


class Command(BaseCommand):
    help = "Load the demo project, its users, posts, codebook and a few codings. Safe to re-run."

    def add_arguments(self, parser):
        parser.add_argument("--quiet-accounts", action="store_true", help="do not list accounts")

    @transaction.atomic
    def handle(self, *args, **options):
        demo = json.loads(DEMO_FILE.read_text(encoding="utf-8"))
        User = get_user_model()
        users = {}
        for spec in demo["users"]:
            user, created = User.objects.get_or_create(
                username=spec["username"],
                defaults={
                    "first_name": spec.get("first_name", ""),
                    "last_name": spec.get("last_name", ""),
                },
            )
            if created:
                user.set_password(spec["password"])
                user.is_staff = spec["role"] == "admin"
                user.is_superuser = spec["role"] == "admin"
                user.save()
            users[spec["username"]] = user

        p = demo["project"]
        project, _ = Project.objects.get_or_create(
            slug=p["slug"], defaults={"name": p["name"], "description": p["description"]}
        )
        for spec in demo["users"]:
            services.membership_set(
                project=project, user=users[spec["username"]], role=spec["role"]
            )

        batch, created = ImportBatch.objects.get_or_create(
            project=project,
            file_name="demo.json",
            defaults={
                "status": JobStatus.SUCCEEDED,
                "progress": 1.0,
                "created_by": users.get("admin"),
                "message": demo["notice"],
                "started_at": timezone.now(),
                "finished_at": timezone.now(),
            },
        )
        mapping = {
            f: f for f in ("text", "author", "author_headline", "posted_at", "url", "external_id")
        }
        posts = {}
        new = 0
        for number, spec in enumerate(demo["posts"], start=1):
            record = normalize_row(RawRow(number=number, fields=spec), mapping)
            post, made = Post.objects.get_or_create(
                project=project,
                external_id=record.external_id,
                defaults={
                    "batch": batch,
                    "author": record.author,
                    "author_headline": record.author_headline,
                    "posted_at": record.posted_at,
                    "url": record.url,
                    "text": record.text,
                    "word_count": record.word_count,
                    "content_hash": record.content_hash,
                    "metadata": {"illustrative": True},
                },
            )
            new += made
            posts[spec["external_id"]] = post
        if created or new:
            batch.total_rows = len(demo["posts"])
            batch.imported_count = batch.posts.count()
            batch.save()

        codes = {}

        def add(nodes, parent, path):
            for position, node in enumerate(nodes):
                code = Code.objects.filter(
                    project=project, parent=parent, name=node["name"]
                ).first()
                if code is None:
                    code = services.code_create(
                        project=project,
                        parent=parent,
                        name=node["name"],
                        colour=node["colour"],
                        definition=node.get("definition", ""),
                        user=users.get("supervisor"),
                    )
                    code.position = position
                    code.save(update_fields=["position"])
                codes[(*path, node["name"])] = code
                add(node.get("children", []), code, (*path, node["name"]))

        add(demo["codebook"], None, ())

        for spec in demo["codings"]:
            post = posts[spec["post"]]
            start = post.text.index(spec["quote"])
            services.coding_apply(
                post=post,
                code=codes[tuple(spec["code"])],
                coder=users[spec["coder"]],
                start=start,
                end=start + len(spec["quote"]),
            )

        self.stdout.write(
            self.style.SUCCESS(
                f"Demo project “{project.name}” ready: {len(posts)} posts, {len(codes)} codes, "
                f"{len(demo['codings'])} codings (illustrative data)."
            )
        )
        if not options["quiet_accounts"]:
            self.stdout.write("Demo accounts (username / password / role):")
            for spec in demo["users"]:
                self.stdout.write(f"  {spec['username']:<11} {spec['password']:<22} {spec['role']}")
