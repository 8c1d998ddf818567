"""`manage.py sample`: apply inclusion criteria and draw a recorded sample."""

import json
from datetime import date

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from coding_app.models import Project
from corpus import services
from corpus.sampling import Criteria


class Command(BaseCommand):
    help = "Draw a recorded sample: criteria → pool (by posting date) → every k-th or random."

    def add_arguments(self, parser):
        parser.add_argument("--project", required=True)
        parser.add_argument("--name", required=True)
        parser.add_argument("--min-words", type=int)
        parser.add_argument("--max-words", type=int)
        parser.add_argument(
            "--months", type=int, help="posted at most N months before the reference date"
        )
        parser.add_argument(
            "--reference-date", type=date.fromisoformat, help="YYYY-MM-DD (default: today)"
        )
        parser.add_argument("--from", dest="date_from", type=date.fromisoformat)
        parser.add_argument("--to", dest="date_to", type=date.fromisoformat)
        parser.add_argument(
            "--keyword", action="append", default=[], help="repeatable; any of them"
        )
        parser.add_argument("--every", type=int, help="systematic: keep every k-th post")
        parser.add_argument("--start", type=int, help="systematic: 1-based start position")
        parser.add_argument(
            "--random", type=int, metavar="N", help="simple random sample of N posts"
        )
        parser.add_argument("--seed", type=int)
        parser.add_argument("--user", default=None)
        parser.add_argument("--json", action="store_true")

    def handle(self, *args, **o):
        project = Project.objects.filter(slug=o["project"]).first()
        if project is None:
            raise CommandError(f"No project with the slug “{o['project']}”.")
        if o["every"] and o["random"]:
            raise CommandError("Choose --every K or --random N, not both.")
        months = o["months"]
        reference = o["reference_date"] or (date.today() if months is not None else None)
        criteria = Criteria(
            min_words=o["min_words"],
            max_words=o["max_words"],
            date_from=o["date_from"],
            date_to=o["date_to"],
            months_before=months,
            reference_date=reference,
            keywords=o["keyword"],
            exclude_keywords=[],
            authors=[],
            metadata={},
        )
        method = "systematic" if o["every"] else ("random" if o["random"] else "all")
        user = None
        if o["user"]:
            from django.contrib.auth import get_user_model

            user = get_user_model().objects.filter(username=o["user"]).first()
        try:
            sample = services.sample_create(
                project=project,
                name=o["name"],
                criteria=criteria,
                method=method,
                k=o["every"],
                start=o["start"],
                seed=o["seed"],
                n=o["random"],
                user=user,
            )
        except ValidationError as exc:
            raise CommandError(
                "; ".join(m for msgs in exc.message_dict.values() for m in msgs)
            ) from exc
        if o["json"]:
            self.stdout.write(
                json.dumps(
                    {
                        "sample": sample.pk,
                        "name": sample.name,
                        "description": sample.description,
                        "criteria": sample.criteria,
                        "pool_size": len(sample.pool_ids),
                        "method": sample.method,
                        "k": sample.k,
                        "start": sample.start,
                        "seed": sample.seed,
                        "n": sample.n,
                        "post_ids": sample.post_ids,
                    },
                    ensure_ascii=False,
                )
            )
        else:
            self.stdout.write(self.style.SUCCESS(sample.description))
