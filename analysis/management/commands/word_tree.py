"""`manage.py word_tree --project SLUG --root PHRASE`: what follows and leads to a phrase."""

import json

from django.core.management.base import BaseCommand

from ._analysis_cli import run_query


def _strip(node: dict) -> dict:
    return {
        "phrase": node["phrase"],
        "count": node["count"],
        "children": [_strip(child) for child in node.get("children", [])],
    }


class Command(BaseCommand):
    help = "Word tree of a word or phrase over a project's posts."

    def add_arguments(self, parser):
        parser.add_argument("--project", required=True)
        parser.add_argument("--root", required=True)
        parser.add_argument("--depth", type=int, default=5)
        parser.add_argument("--json", action="store_true")

    def handle(self, *args, **o):
        job = run_query(o["project"], "wordtree", {"root": o["root"], "depth": o["depth"]})
        tree = job.result["tree"]
        payload = {
            "root": tree["root"],
            "count": tree["count"],
            "right": _strip(tree["right"]),
            "left": _strip(tree["left"]),
        }
        if o["json"]:
            self.stdout.write(json.dumps(payload, ensure_ascii=False))
            return

        def show(node, depth, arrow):
            for child in node["children"]:
                self.stdout.write(f"{'  ' * depth}{arrow} {child['phrase']} ({child['count']})")
                show(child, depth + 1, arrow)

        self.stdout.write(f"{payload['root']} ({payload['count']})")
        show(payload["right"], 1, "→")
        show(payload["left"], 1, "←")
