"""Analysis jobs: request (or reuse) a query, run it in a worker, and act on its results."""

import functools
import hashlib
import itertools
import json
import logging
import time
import unicodedata
from collections import Counter
from collections.abc import Iterator

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Max, Q, Sum

from coding_app.access import sees_all_codings
from coding_app.jobs import job_claim, job_fail, job_finish, job_heartbeat, job_sweep_stale
from coding_app.models import Code, Membership, Role
from coding_app.selectors import code_descendant_ids, coding_list
from corpus.models import Post, Sample
from corpus.selectors import post_visible_q

from . import parallel
from .models import AnalysisJob, StopWord, SynonymGroup, TokenCounts
from .readahead import read_ahead
from .tally import tally_pack, tally_unpack
from .text.frequency import count_tokens, word_frequency
from .text.kwic import find_occurrences, keyword_in_context
from .text.stopwords import load_stopwords
from .text.tokenize import JOINER_TO_ASCII, word_counts
from .text.wordtree import word_tree

logger = logging.getLogger(__name__)

SCOPES = ("project", "batch", "sample", "code", "coder", "attribute")
GROUPINGS = ("exact", "stem", "synonyms")
READ_CHUNK = 2000
KWIC_LIMIT = 500
OCCURRENCES_KEPT = 50


def _clean_params(kind: str, params: dict) -> dict:
    """Validate and fill defaults; the result is what the job stores and hashes."""
    scope = params.get("scope") or "project"
    if scope not in SCOPES:
        raise ValidationError({"scope": f"Choose a scope among {', '.join(SCOPES)}."})
    grouping = params.get("grouping") or "exact"
    if grouping not in GROUPINGS:
        raise ValidationError({"grouping": f"Choose a grouping among {', '.join(GROUPINGS)}."})

    def number(name, default, low, high):
        try:
            value = int(params.get(name, default) if params.get(name, "") != "" else default)
        except (TypeError, ValueError) as exc:
            raise ValidationError({name: "Give a whole number."}) from exc
        if not low <= value <= high:
            raise ValidationError({name: f"Give a number from {low} to {high}."})
        return value

    clean = {"scope": scope, "grouping": grouping}
    if scope == "attribute":
        # Posts whose imported attribute (metadata column) has this value, e.g. sector=health.
        key, sep, value = str(params.get("attribute", "")).partition("=")
        if not sep or not key.strip():
            raise ValidationError(
                {"attribute": "Write the attribute as name=value, e.g. sector=health."}
            )
        clean["attribute"] = {"key": key.strip(), "value": value.strip()}
    elif scope != "project":
        clean["scope_id"] = number("scope_id", 0, 1, 2**62)
    if kind == AnalysisJob.Kind.FREQUENCY:
        clean |= {
            "top": number("top", 100, 1, 1000),
            "min_length": number("min_length", 3, 1, 50),
            "stopwords": bool(params.get("stopwords", True)),
        }
    else:
        root = " ".join(str(params.get("root", "")).split())
        if not root:
            raise ValidationError({"root": "Give a word or phrase for the root of the tree."})
        clean |= {
            "root": root[:200],
            "depth": number("depth", 5, 1, 15),
            "width": number("width", 5, 1, 20),
        }
    return clean


def _scope_filters(project, params: dict, membership: Membership):
    """(posts queryset, or codings queryset) for the scope, respecting blind coding."""
    scope, scope_id = params["scope"], params.get("scope_id")
    posts = Post.objects.filter(project=project).filter(post_visible_q())
    if scope == "project":
        return posts, None
    if scope == "batch":
        return posts.filter(batch_id=scope_id), None
    if scope == "attribute":
        from corpus.services import attribute_q

        attribute = params["attribute"]
        return posts.filter(attribute_q(attribute["key"], attribute["value"])), None
    if scope == "sample":
        sample = Sample.objects.filter(project=project, pk=scope_id).first()
        if sample is None:
            raise ValidationError({"scope_id": "No such sample in this project."})
        return posts.filter(pk__in=sample.post_ids), None
    codings = coding_list(membership=membership)
    if scope == "code":
        code = Code.objects.filter(project=project, pk=scope_id).first()
        if code is None:
            raise ValidationError({"scope_id": "No such code in this project."})
        return None, codings.filter(code_id__in=code_descendant_ids(code=code))
    return None, codings.filter(coder_id=scope_id)


def _corpus_version(posts, codings) -> str:
    if codings is not None:
        agg = codings.aggregate(n=Count("id"), last=Max("updated_at"), top=Max("id"))
    else:
        agg = posts.aggregate(n=Count("id"), top=Max("id"))
    return hashlib.sha256(json.dumps(agg, default=str, sort_keys=True).encode()).hexdigest()


def _text_config(project) -> dict:
    extra = dict(StopWord.objects.filter(project=project).values_list("word", "excluded"))
    synonyms = {g.label: g.members for g in SynonymGroup.objects.filter(project=project)}
    return {
        "stop_add": sorted(w for w, ex in extra.items() if not ex),
        "stop_remove": sorted(w for w, ex in extra.items() if ex),
        "synonyms": synonyms,
    }


def _job_reuse_or_create(
    *, project, kind: str, params: dict, version: str, user, enqueue: bool = True
) -> tuple[AnalysisJob, bool]:
    """An identical queued, running or finished job on the same data, or a new queued one.

    The hash covers the kind and the cleaned parameters; `version` stands for the data read.
    """
    params_hash = hashlib.sha256(json.dumps([kind, params], sort_keys=True).encode()).hexdigest()
    existing = (
        AnalysisJob.objects.filter(
            project=project,
            kind=kind,
            params_hash=params_hash,
            corpus_version=version,
            status__in=["queued", "running", "succeeded"],
        )
        .order_by("-created_at")
        .first()
    )
    if existing is not None:
        return existing, False
    job = AnalysisJob.objects.create(
        project=project,
        kind=kind,
        params=params,
        params_hash=params_hash,
        corpus_version=version,
        created_by=user,
    )
    if enqueue:
        from .tasks import analysis_run_task

        transaction.on_commit(lambda: analysis_run_task.delay(job.pk))
    return job, True


@transaction.atomic
def analysis_request(
    *, membership: Membership, kind: str, params: dict, user, enqueue: bool = True
) -> tuple[AnalysisJob, bool]:
    """Create a job, or reuse a running or finished identical one; returns (job, created)."""
    project = membership.project
    if kind not in AnalysisJob.Kind.values:
        raise ValidationError({"kind": "Unknown analysis."})
    clean = _clean_params(kind, params)
    posts, codings = _scope_filters(project, clean, membership)
    clean["text_config"] = _text_config(project)
    # Whoever sees only their own codings gets results of their own.
    if codings is not None and not sees_all_codings(membership):
        clean["visible_to"] = user.pk
    return _job_reuse_or_create(
        project=project,
        kind=kind,
        params=clean,
        version=_corpus_version(posts, codings),
        user=user,
        enqueue=enqueue,
    )


@transaction.atomic
def agreement_request(
    *,
    membership: Membership,
    coder_ids: list[int],
    unit: str,
    scope: str,
    post_ids,
    user,
    groups: list[list[int]] | None = None,
) -> tuple[AnalysisJob, bool]:
    """A coder comparison as a background job; reused while the coders' codings, the
    assignments and the scope are unchanged."""
    from coding_app.models import Assignment, Coding

    from .comparison import COMPARISON_METHOD, UNITS

    if unit not in UNITS:
        raise ValidationError({"unit": f"Choose a unit among {', '.join(UNITS)}."})
    if groups:
        groups = [sorted(set(g)) for g in groups if g]
        if len(groups) < 2:
            raise ValidationError({"coders": "Put at least one coder in each group."})
        if len({c for g in groups for c in g}) < sum(len(g) for g in groups):
            raise ValidationError({"coders": "A coder can be in one group only."})
        coder_ids = [c for g in groups for c in g]
    coder_ids = sorted(set(coder_ids))
    if len(coder_ids) < 2:
        raise ValidationError({"coders": "Choose at least two coders to compare."})
    project = membership.project
    params = {
        "coders": coder_ids,
        "groups": groups or None,
        "unit": unit,
        "scope": scope,
        "post_ids": sorted(post_ids) if post_ids is not None else None,
    }
    codings = Coding.objects.filter(post__project=project, coder_id__in=coder_ids)
    assignments = Assignment.objects.filter(post__project=project, coder_id__in=coder_ids)
    state = codings.aggregate(n=Count("id"), last=Max("updated_at"), top=Max("id")) | {
        # The way of comparing: a result computed another way is not reused.
        "method": COMPARISON_METHOD,
        "assigned": assignments.count(),
        # Marking a post coded in a queue makes it judged (see comparison_compute).
        "marked": assignments.filter(done_at__isnull=False).aggregate(
            n=Count("id"), last=Max("done_at"), ids=Sum("id")
        ),
        "codes": list(
            Code.objects.filter(project=project)
            .values_list("id", "parent_id", "name")
            .order_by("id")
        ),
    }
    version = hashlib.sha256(json.dumps(state, default=str, sort_keys=True).encode()).hexdigest()
    return _job_reuse_or_create(
        project=project, kind=AnalysisJob.Kind.AGREEMENT, params=params, version=version, user=user
    )


def analysis_is_current(*, job: AnalysisJob, membership: Membership) -> bool:
    """False once posts or codings in the job's scope have changed since it ran."""
    posts, codings = _scope_filters(job.project, job.params, membership)
    return _corpus_version(posts, codings) == job.corpus_version


def _documents(job: AnalysisJob, *, count: bool = True):
    """The documents, as an id-ordered values_list of (id, text), and how many there are
    (None unless `count`): posts for corpus scopes, quotes for coding scopes."""
    membership = Membership(
        project=job.project,
        user_id=job.params.get("visible_to") or 0,
        role=Role.CODER if job.params.get("visible_to") else Role.ADMIN,
    )
    posts, codings = _scope_filters(job.project, job.params, membership)
    if codings is not None:
        # Documents are quotes, keyed by coding id (a post may hold several quotes).
        rows = codings.order_by("id").values_list("id", "quote")
    else:
        rows = posts.order_by("id").values_list("id", "text")
    return rows, rows.count() if count else None


def _post_of_document(job: AnalysisJob, doc_ids) -> dict:
    """Coding id → post id for quote scopes; identity for post scopes."""
    if job.params["scope"] in ("code", "coder"):
        from coding_app.models import Coding

        return dict(Coding.objects.filter(pk__in=set(doc_ids)).values_list("id", "post_id"))
    return {d: d for d in doc_ids}


def _stopwords(params: dict) -> frozenset[str]:
    config = params["text_config"]
    return (load_stopwords() | set(config["stop_add"])) - set(config["stop_remove"])


def _grouping(params: dict):
    if params["grouping"] == "synonyms":
        return params["text_config"]["synonyms"] or "exact"
    return params["grouping"]


class _Cancelled(Exception):
    pass


def _cancel():
    raise _Cancelled


def analysis_chunks_help(*, job_id: int) -> int:
    """A helper task's work for a large frequency job: count chunks until none is left."""
    from corpus.models import JobStatus

    job = AnalysisJob.objects.select_related("project").filter(pk=job_id).first()
    if job is None or job.status != JobStatus.RUNNING:
        return 0
    from .tasks import analysis_chunks_task

    rows, _total = _documents(job, count=False)
    return parallel.chunks_help(job_id, rows, enqueue=analysis_chunks_task.delay)


def analysis_run(*, job_id: int) -> AnalysisJob | None:
    if not job_claim(AnalysisJob, job_id):
        logger.info("analysis job %s: already claimed or finished; skipping", job_id)
        return None
    job = AnalysisJob.objects.select_related("project").get(pk=job_id)
    try:
        result = _run(job)
    except _Cancelled:
        return AnalysisJob.objects.get(pk=job_id)
    except ValidationError as exc:
        job_fail(AnalysisJob, job_id, "; ".join(m for ms in exc.message_dict.values() for m in ms))
    except Exception:
        logger.exception("analysis job %s failed", job_id)
        job_fail(
            AnalysisJob,
            job_id,
            "The analysis failed because of an internal error; the log has details.",
        )
        raise
    else:
        job_finish(AnalysisJob, job_id, result=result)
    return AnalysisJob.objects.get(pk=job_id)


def _run(job: AnalysisJob) -> dict:
    if job.kind == AnalysisJob.Kind.AGREEMENT:
        from .comparison import comparison_compute

        params = job.params
        return comparison_compute(
            project=job.project,
            coder_ids=params["coders"],
            unit=params["unit"],
            post_ids=params["post_ids"],
            groups=params.get("groups"),
        )
    rows, total = _documents(job)
    params = job.params
    last = time.monotonic()
    done = 0

    def progress():
        nonlocal last
        if time.monotonic() - last >= 1.0:
            last = time.monotonic()
            if not job_heartbeat(AnalysisJob, job.pk, progress=done / total if total else 0):
                raise _Cancelled

    if job.kind == AnalysisJob.Kind.FREQUENCY:
        # Multi-word synonyms are matched while counting, so such counts are kept apart.
        counting = _grouping(params) if params["grouping"] == "synonyms" else "exact"
        scope = {k: params.get(k) for k in ("scope", "scope_id", "visible_to")} | {
            "counting": counting
        }
        scope_key = hashlib.sha256(json.dumps(scope, sort_keys=True).encode()).hexdigest()
        cached = TokenCounts.objects.filter(
            project=job.project, scope_key=scope_key, corpus_version=job.corpus_version
        ).first()
        if cached is not None:
            counts = Counter(tally_unpack(cached.tally))
        else:
            counts = Counter()
            batch: list[str] = []
            if counting == "exact" and total >= parallel.PARALLEL_MIN_DOCS:
                # Large corpora are counted in chunks by every free worker, then merged.
                from .tasks import analysis_chunks_task

                counts = parallel.count_in_chunks(
                    job,
                    rows,
                    total,
                    enqueue=analysis_chunks_task.delay,
                    cancelled=_cancel,
                )
                rows = rows.none()
            for _doc_id, text in rows.iterator(chunk_size=READ_CHUNK):
                if counting == "exact":
                    batch.append(text)  # counted a chunk at a time: one scan per chunk
                else:
                    counts.update(count_tokens(text, grouping=counting))
                done += 1
                if done % READ_CHUNK == 0:
                    counts.update(word_counts(batch))
                    batch = []
                    progress()
            counts.update(word_counts(batch))
            TokenCounts.objects.filter(project=job.project, scope_key=scope_key).delete()
            TokenCounts.objects.create(
                project=job.project,
                scope_key=scope_key,
                corpus_version=job.corpus_version,
                documents=total,
                tally=tally_pack(counts),
            )
        result = word_frequency(
            [counts],
            top=params["top"],
            min_length=params["min_length"],
            stopwords=_stopwords(params) if params["stopwords"] else frozenset(),
            grouping=_grouping(params),
        )
        return {
            "documents": total,
            "total_words": result.total_words,
            "words": [
                {
                    "word": w.word,
                    "count": w.count,
                    "percent": round(w.percent, 4),
                    "grouped": w.grouped,
                }
                for w in result.words
            ],
        }

    # One pass over the texts finds the root; the tree and the KWIC lines share it. For exact
    # roots the texts were kept by a substring test already, so no second word-count test.
    # The texts are read ahead on a second connection while this one tokenises them.
    docs: list[tuple[int, str]] = []

    def kept():
        for doc in _docs_mentioning(read_ahead(_narrow(job, rows, params)), params):
            docs.append(doc)
            yield doc

    occurrences = list(
        find_occurrences(
            kept(),
            params["root"],
            grouping=_grouping(params),
            quick_check=params["grouping"] != "exact",
        )
    )
    tree = word_tree(
        docs,
        params["root"],
        depth=params["depth"],
        grouping=_grouping(params),
        occurrences=occurrences,
    )
    texts = dict(docs)
    lines = keyword_in_context(
        docs,
        params["root"],
        width=params["width"],
        grouping=_grouping(params),
        occurrences=occurrences,
    )
    posts = _post_of_document(job, [line.doc_id for line in lines[:KWIC_LIMIT]])
    _trim_occurrences(tree["right"], texts)
    _trim_occurrences(tree["left"], texts)
    return {
        "documents": total,
        "tree": tree,
        "kwic_total": len(lines),
        "kwic": [
            {
                "post": posts.get(line.doc_id),
                "left": line.left,
                "keyword": line.keyword,
                "right": line.right,
                "start": line.start,
                "end": line.end,
            }
            for line in lines[:KWIC_LIMIT]
        ],
    }


# Non-ASCII code points that can read as ASCII letters or digits after NFKC and case folding
# (surrogates left out).
LOOKALIKE_PLANES = (range(0x80, 0xD800), range(0xE000, 0x20000))


@functools.cache
def _ascii_lookalikes() -> str:
    """A regex class of every non-ASCII character that NFKC and case folding turn into (or
    into text holding) ASCII letters or digits: 𝗦, ﬁ, Ｋ, ², ß… (about 1,400 code points).

    They all lie in the first two planes (tests check this against every code point), so
    only those are scanned: a tenth of the work, on each worker's first word tree."""
    ranges: list[list[int]] = []
    for code in itertools.chain(*LOOKALIKE_PLANES):
        char = chr(code)
        folded = unicodedata.normalize("NFKC", char).casefold()
        if folded != char and any(c.isascii() and c.isalnum() for c in folded):
            if ranges and ranges[-1][1] == code - 1:
                ranges[-1][1] = code
            else:
                ranges.append([code, code])
    return "".join(chr(a) if a == b else f"{chr(a)}-{chr(b)}" for a, b in ranges)


def _narrow(job: AnalysisJob, rows, params: dict):
    """Let the database skip texts that cannot hold an exact root: those whose text lacks
    its first word. A text can still hold an ASCII word written with look-alikes (𝗦𝗞𝗜𝗟𝗟𝗦,
    ﬁ ligatures, full-width letters) or with ’ and ‐ for ' and -: such texts are kept too,
    and the exact test follows in Python. Emoji and accents no longer keep a text."""
    if params["grouping"] != "exact":
        return rows
    field = "quote" if job.params["scope"] in ("code", "coder") else "text"
    first = params["root"].split()[0]
    if not first.isascii():
        return rows.filter(
            Q(**{f"{field}__icontains": first}) | Q(**{f"{field}__regex": r"[^\x01-\x7f]"})
        )
    lookalikes = _ascii_lookalikes() + ("\u2019\u2010" if set(first) & set("'-") else "")
    # An ASCII word: PostgreSQL's case-blind regex (~*) scans faster than ILIKE (about 0.2 s
    # against 0.4 s on 100,000 posts); punctuation is escaped, letters and digits are not.
    word = "".join(c if c.isalnum() else "\\" + c for c in first)
    return rows.filter(
        Q(**{f"{field}__iregex": word}) | Q(**{f"{field}__regex": f"[{lookalikes}]"})
    )


def _docs_mentioning(rows, params: dict) -> Iterator[tuple[int, str]]:
    """Only the texts that can hold the root: a cheap substring test before tokenising.

    For exact grouping a match needs the root's first word in the NFKC, case-folded text;
    stemmed and synonym roots can match other surface forms, so every text is kept then.
    """
    if params["grouping"] != "exact":
        yield from rows
        return
    first = params["root"].split()[0].casefold().translate(JOINER_TO_ASCII)
    for doc_id, text in rows:
        folded = text.casefold()
        if first in folded:
            yield doc_id, text
        elif not unicodedata.is_normalized("NFKC", text):  # 𝗦𝗞𝗜𝗟𝗟𝗦, ligatures, full-width
            if first in unicodedata.normalize("NFKC", text).casefold().translate(JOINER_TO_ASCII):
                yield doc_id, text
        elif ("\u2019" in text or "\u2010" in text) and first in folded.translate(JOINER_TO_ASCII):
            yield doc_id, text


def _trim_occurrences(node: dict, texts: dict) -> None:
    """Keep the tree small enough to send: counts stay exact, occurrence lists are cut, and
    the kept ones carry their sentence so a click can show it."""
    occurrences = node.get("occurrences") or []
    node["occurrence_count"] = len(occurrences)
    node["occurrences"] = [
        [post, start, end, texts.get(post, "")[start:end]]
        for post, start, end in occurrences[:OCCURRENCES_KEPT]
    ]
    for child in node.get("children", []):
        _trim_occurrences(child, texts)


def analysis_sweep_stale() -> int:
    from .tasks import analysis_run_task

    return job_sweep_stale(
        AnalysisJob,
        requeue=lambda pk: analysis_run_task.delay(pk),
        on_give_up=lambda job: job_fail(
            AnalysisJob, job.pk, "The analysis was interrupted three times."
        ),
    )


@transaction.atomic
def theme_from_word(*, job: AnalysisJob, word: str, user, colour: str = "#c5b0d5") -> Code:
    """“Make this a theme”: a root code named after a frequent word, with the query attached."""
    from coding_app.services import code_create

    entry = next((w for w in (job.result or {}).get("words", []) if w["word"] == word), None)
    if entry is None:
        raise ValidationError({"word": f"“{word}” is not among this query's words."})
    code = code_create(
        project=job.project,
        name=word,
        colour=colour,
        user=user,
        definition=f"Theme from the word frequency query: “{word}” ({entry['count']} occurrences).",
    )
    code.origin = {
        "from": "word-frequency",
        "job": job.pk,
        "word": word,
        "count": entry["count"],
        "percent": entry["percent"],
        "grouped": entry["grouped"],
        "params": job.params,
        "rank": job.result["words"].index(entry) + 1,
        "documents": job.result.get("documents"),
    }
    code.save(update_fields=["origin"])
    return code


@transaction.atomic
def stopword_add(*, project, word: str) -> StopWord:
    word = word.strip().casefold()
    if not word:
        raise ValidationError({"word": "Give a word."})
    stop, _ = StopWord.objects.update_or_create(
        project=project, word=word, defaults={"excluded": False}
    )
    return stop


def codings_from_tree(
    *, membership: Membership, post_sentence_spans, code: Code, user
) -> list[int]:
    """Code every sentence of a branch (as the current coder); returns the new coding ids."""
    from coding_app.services import coding_apply

    if code.project_id != membership.project.pk:
        raise ValidationError({"code": "This code belongs to another project."})
    posts = {
        p.pk: p
        for p in Post.objects.filter(
            project=membership.project, pk__in={p for p, _, _ in post_sentence_spans}
        )
    }
    created_ids = []
    for post_id, start, end in post_sentence_spans:
        post = posts.get(post_id)
        if post is None:
            continue
        coding, created = coding_apply(post=post, code=code, coder=user, start=start, end=end)
        if created:
            created_ids.append(coding.pk)
    return created_ids


def tree_branch_sentences(*, job: AnalysisJob, phrase: str) -> list[tuple[int, int, int]]:
    """Every (post, sentence start, sentence end) in the job's scope that contains the phrase:
    the sentences behind a branch (the phrase is the root plus the branch's words)."""
    if job.kind != AnalysisJob.Kind.WORDTREE or job.status != "succeeded":
        raise ValidationError({"job": "Code from a finished word tree."})
    if job.params["scope"] in ("code", "coder"):
        raise ValidationError(
            {
                "job": "Coding from a tree works on posts: build the tree on the project, a batch or a sample."
            }
        )
    rows, _ = _documents(job)
    docs = list(_docs_mentioning(read_ahead(rows), job.params | {"root": phrase}))
    tree = word_tree(docs, phrase, depth=1, grouping=_grouping(job.params))
    return [tuple(o) for o in tree["right"]["occurrences"]]
