"""`manage.py word_frequency --project SLUG`: the most frequent words of a project's posts."""

import json

from django.core.management.base import BaseCommand

from ._analysis_cli import run_query


class Command(BaseCommand):
    help = "Word frequency query over a project's posts (stop words and short words left out)."

    def add_arguments(self, parser):
        parser.add_argument("--project", required=True)
        parser.add_argument("--top", type=int, default=100)
        parser.add_argument("--min-length", type=int, default=3)
        parser.add_argument("--stem", action="store_true", help="group words by Snowball stem")
        parser.add_argument("--no-stopwords", action="store_true", help="keep stop words")
        parser.add_argument("--json", action="store_true")

    def handle(self, *args, **o):
        job = run_query(
            o["project"],
            "frequency",
            {
                "top": o["top"],
                "min_length": o["min_length"],
                "grouping": "stem" if o["stem"] else "exact",
                "stopwords": not o["no_stopwords"],
            },
        )
        result = job.result
        if o["json"]:
            self.stdout.write(
                json.dumps(
                    {"total_words": result["total_words"], "words": result["words"]},
                    ensure_ascii=False,
                )
            )
            return
        self.stdout.write(f"{result['total_words']} words in {result['documents']} posts")
        for rank, w in enumerate(result["words"], start=1):
            self.stdout.write(f"{rank:>4}  {w['word']:<24} {w['count']:>8}  {w['percent']:.2f}%")
