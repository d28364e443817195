"""memory_first_v2: sources -> index_extract -> summarize -> proposals -> review ->
apply -> analytics over generated notes, kept in a memory store (SQLite, see store.py).

`proposals` is a manual step: a person executes it with `{limit, provider, model,
root_prefix}` (ctx.payload). `review` is a review gate over the proposals: people approve,
reject and patch their `ontology`, then submit; the gate's action records the decisions and
`apply` applies exactly the approved items, with their patched ontology. With
`auto_review: true` in the job's input both run by themselves (the proposals with the job's
own input, the review by `params.min_confidence`), for hands-free runs.

Documents are stored once by content id (a re-run adds none); each job links its documents and
owns its proposals, so retries replace their own rows. summarize and proposals are simulated
LLM calls: the text is computed, the tokens and the price (llm.PRICES) are real bookkeeping.
The snapshot `memory_first_v2.state` counts the store (the run audit's before/after state).
"""

from __future__ import annotations

import json
import math
import sqlite3
from collections import Counter
from typing import Any

from backend.steps import StepContext, expected_work, snapshot
from examples.steps import store
from examples.steps.common import Knobs, charge_compute, digest, example_step, track
from examples.steps.corpus import generate_documents, keywords, propose, summary_of, words
from examples.steps.llm import DEFAULT_MODEL, PRICES, Usage, pick_model

NAME = "memory_first_v2"
DEFAULT_LIMIT = 50
DEFAULT_MIN_CONFIDENCE = 0.6
SUMMARY_PROMPT = "Summarise this note in one sentence and name its main topics.\n\n"
PROPOSAL_PROMPT = "Propose tags and links for this note. Answer in JSON.\n\n"
SCHEMA = """
CREATE TABLE IF NOT EXISTS documents (
    doc_id TEXT PRIMARY KEY, path TEXT NOT NULL, title TEXT NOT NULL, body TEXT NOT NULL,
    keywords TEXT, summary TEXT, tags TEXT NOT NULL DEFAULT '[]');
CREATE TABLE IF NOT EXISTS job_documents (
    job_id TEXT NOT NULL, position INTEGER NOT NULL, doc_id TEXT NOT NULL, PRIMARY KEY (job_id, position));
CREATE TABLE IF NOT EXISTS proposals (
    job_id TEXT NOT NULL, position INTEGER NOT NULL, proposal_id TEXT NOT NULL, kind TEXT NOT NULL,
    doc_id TEXT NOT NULL, item TEXT NOT NULL, confidence REAL NOT NULL, status TEXT NOT NULL,
    PRIMARY KEY (job_id, position));
CREATE TABLE IF NOT EXISTS links (doc_id TEXT NOT NULL, other_id TEXT NOT NULL, PRIMARY KEY (doc_id, other_id));
"""


def _job_documents(conn: sqlite3.Connection, job_id: str) -> list[dict[str, Any]]:
    """The job's notes in source order, keywords parsed ([] before index_extract)."""
    rows = conn.execute(
        """
        SELECT d.* FROM job_documents j JOIN documents d ON d.doc_id = j.doc_id
        WHERE j.job_id = ? ORDER BY j.position
        """,
        (job_id,),
    )
    return [{**dict(r), "keywords": json.loads(r["keywords"] or "[]")} for r in rows]


def _proposals(
    conn: sqlite3.Connection, job_id: str, status: str | None = None
) -> list[dict[str, Any]]:
    rows = conn.execute(
        "SELECT item, status FROM proposals WHERE job_id = ? AND (? IS NULL OR status = ?) ORDER BY position",
        (job_id, status, status),
    )
    return [{**json.loads(r["item"]), "status": r["status"]} for r in rows]


def _model(ctx: StepContext) -> str:
    return pick_model(None, str(ctx.input.get("model") or DEFAULT_MODEL))


@example_step("memory_first_v2.sources")
def sources(ctx: StepContext) -> dict[str, Any]:
    """Collect the notes under root_prefix into the memory store and link them to the job."""
    knobs = Knobs.from_input(ctx.input)
    prefix = str(ctx.input.get("root_prefix") or "")
    docs = [
        d
        for d in track(ctx, generate_documents(knobs.seed, knobs.records))
        if d["path"].startswith(prefix)
    ]
    with store.writing(NAME, SCHEMA) as conn:
        before = conn.total_changes
        conn.executemany(
            "INSERT OR IGNORE INTO documents (doc_id, path, title, body) VALUES (?, ?, ?, ?)",
            [(d["doc_id"], d["path"], d["title"], d["body"]) for d in docs],
        )
        new = conn.total_changes - before
        conn.execute("DELETE FROM job_documents WHERE job_id = ?", (ctx.job_id,))
        conn.executemany(
            "INSERT INTO job_documents (job_id, position, doc_id) VALUES (?, ?, ?)",
            [(ctx.job_id, i, d["doc_id"]) for i, d in enumerate(docs, start=1)],
        )
    folders = Counter(d["path"].split("/", 1)[0] for d in docs)
    ctx.log(
        f"{len(docs)} document(s) under {prefix or '/'!r}: {new} new to memory, {len(docs) - new} known"
    )
    ctx.metric("documents", len(docs), "documents")
    ctx.metric("documents_new", new, "documents")
    charge_compute(ctx, len(docs))
    return {
        "documents": len(docs),
        "root_prefix": prefix or None,
        "folders": dict(sorted(folders.items())),
        "checksum": digest([d["doc_id"] for d in docs]),
    }


@example_step("memory_first_v2.index_extract")
def index_extract(ctx: StepContext) -> dict[str, Any]:
    """Index the job's documents: keywords per document and document frequency per term."""
    with store.reading(NAME, SCHEMA) as conn:
        docs = _job_documents(conn, ctx.job_id)
    found = [(doc["doc_id"], keywords(doc["body"])) for doc in track(ctx, docs)]
    frequency: Counter[str] = Counter()
    for doc in docs:
        frequency.update(set(words(doc["body"])))
    with store.writing(NAME, SCHEMA) as conn:
        conn.executemany(
            "UPDATE documents SET keywords = ? WHERE doc_id = ?",
            [(json.dumps(pairs), doc_id) for doc_id, pairs in found],
        )
    top = sorted(frequency.items(), key=lambda item: (-item[1], item[0]))[:10]
    ctx.log(
        f"indexed {len(docs)} document(s): {len(frequency)} distinct terms; top: {', '.join(t for t, _ in top[:5])}"
    )
    ctx.metric("terms", len(frequency), "terms")
    charge_compute(ctx, sum(len(doc["body"]) for doc in docs) // 100)
    return {
        "documents": len(docs),
        "terms": len(frequency),
        "top_terms": [[t, n] for t, n in top],
        "checksum": digest(found),
    }


@example_step("memory_first_v2.summarize")
def summarize(ctx: StepContext) -> dict[str, Any]:
    """Summarise every document of the job with the (simulated) model and store the summaries."""
    usage = Usage(_model(ctx))
    with store.reading(NAME, SCHEMA) as conn:
        docs = _job_documents(conn, ctx.job_id)
    summaries = []
    for doc in track(ctx, docs):
        summaries.append((summary_of(doc), doc["doc_id"]))
        usage.add(SUMMARY_PROMPT + doc["body"], summaries[-1][0])
    with store.writing(NAME, SCHEMA) as conn:
        conn.executemany("UPDATE documents SET summary = ? WHERE doc_id = ?", summaries)
    cost = usage.report(ctx)
    ctx.log(
        f"summarised {len(docs)} document(s) with {usage.model}: {usage.tokens_in} tokens in, "
        f"{usage.tokens_out} out, {cost:.6f} USD"
    )
    samples = [
        {"path": doc["path"], "summary": text}
        for doc, (text, _) in zip(docs[:3], summaries, strict=False)
    ]
    return {
        "summarized": len(docs),
        "model": usage.model,
        "provider": PRICES[usage.model][0],
        "tokens_in": usage.tokens_in,
        "tokens_out": usage.tokens_out,
        "cost_usd": cost,
        "samples": samples,
    }


@example_step("memory_first_v2.proposals")
def proposals(ctx: StepContext) -> dict[str, Any]:
    """Propose tags and links for the job's documents (simulated model); a paginated result
    list. Settings come from the execute payload (ctx.payload), else from the job's input."""
    settings = ctx.payload if ctx.payload is not None else ctx.input
    usage = Usage(pick_model(settings.get("provider"), settings.get("model")))
    limit = int(settings.get("limit") or DEFAULT_LIMIT)
    prefix = str(settings.get("root_prefix") or "")
    with store.reading(NAME, SCHEMA) as conn:
        docs = [d for d in _job_documents(conn, ctx.job_id) if d["path"].startswith(prefix)]
    items = propose(docs, limit)
    answers: dict[str, list[dict[str, Any]]] = {}
    for item in items:
        answers.setdefault(item["doc_id"], []).append(item["ontology"])
    for doc in track(ctx, docs):
        if doc["doc_id"] in answers:
            usage.add(PROPOSAL_PROMPT + (doc["summary"] or ""), json.dumps(answers[doc["doc_id"]]))
    with store.writing(NAME, SCHEMA) as conn:
        conn.execute("DELETE FROM proposals WHERE job_id = ?", (ctx.job_id,))
        conn.executemany(
            "INSERT INTO proposals VALUES (?, ?, ?, ?, ?, ?, ?, 'pending')",
            [
                (ctx.job_id, i, p["id"], p["kind"], p["doc_id"], json.dumps(p), p["confidence"])
                for i, p in enumerate(items, start=1)
            ],
        )
    usage.report(ctx)
    kinds = Counter(p["kind"] for p in items)
    ctx.log(f"generated {len(items)} proposal(s) with {usage.model} (limit {limit}): {dict(kinds)}")
    ctx.metric("proposals", len(items), "proposals")
    return {
        "items": items,
        "summary": f"Generated {len(items)} proposal(s)",
        "provider": PRICES[usage.model][0],
        "model": usage.model,
        "root_prefix": prefix or None,
    }


@example_step("memory_first_v2.review")
def review(ctx: StepContext) -> dict[str, Any]:
    """Record the review of the proposals: the gate's submitted review (ctx.payload), or, in a
    hands-free run, approve those at or above params.min_confidence and reject the rest."""
    threshold = float(ctx.params.get("min_confidence", DEFAULT_MIN_CONFIDENCE))
    if ctx.payload is not None:
        items = list(ctx.payload["items"])
    else:
        items = [
            {**p, "decision": "approved" if p["confidence"] >= threshold else "rejected"}
            for p in ctx.upstream["proposals"]["items"]
        ]
    with store.writing(NAME, SCHEMA) as conn:
        conn.executemany(
            "UPDATE proposals SET status = ?, item = ? WHERE job_id = ? AND proposal_id = ?",
            [
                (p["decision"], json.dumps(_proposal(p)), ctx.job_id, p["id"])
                for p in track(ctx, items)
            ],
        )
    approved = sum(1 for p in items if p["decision"] == "approved")
    how = "by a person" if ctx.payload is not None else f"at confidence >= {threshold}"
    ctx.log(f"reviewed {len(items)} proposal(s) {how}: {approved} approved")
    ctx.metric("approved", approved, "proposals")
    ctx.metric("rejected", len(items) - approved, "proposals")
    charge_compute(ctx, len(items))
    return {
        "items": items,
        "reviewed": len(items),
        "approved": approved,
        "rejected": len(items) - approved,
        "min_confidence": None if ctx.payload is not None else threshold,
    }


def _proposal(item: dict[str, Any]) -> dict[str, Any]:
    """A reviewed item as the store keeps it: the proposal, without the review's fields."""
    return {k: v for k, v in item.items() if k not in ("decision", "note", "status")}


@example_step("memory_first_v2.apply")
def apply(ctx: StepContext) -> dict[str, Any]:
    """Apply exactly the approved proposals of the review (with their patched ontology) to
    the memory: tags onto documents, links between them."""
    approved = [p for p in ctx.upstream["review"]["items"] if p["decision"] == "approved"]
    with store.reading(NAME, SCHEMA) as conn:
        paths = {doc["path"]: doc["doc_id"] for doc in _job_documents(conn, ctx.job_id)}
    todo = list(track(ctx, approved))
    with store.writing(NAME, SCHEMA) as conn:
        changed = sum(_apply_one(conn, item, paths) for item in todo)
        conn.executemany(
            "UPDATE proposals SET status = 'applied' WHERE job_id = ? AND proposal_id = ?",
            [(ctx.job_id, p["id"]) for p in approved],
        )
    kinds = Counter(p["ontology"]["type"] for p in approved)
    ctx.log(f"applied {len(approved)} proposal(s) {dict(kinds)}; {changed} changed the memory")
    ctx.metric("applied", len(approved), "proposals")
    charge_compute(ctx, len(approved))
    return {
        "applied": len(approved),
        "applied_ids": [p["id"] for p in approved],
        "tags": sum(len(p["ontology"].get("tags", [])) for p in approved),
        "links": sum(len(p["ontology"].get("links", [])) for p in approved),
    }


def _apply_one(conn: sqlite3.Connection, item: dict[str, Any], paths: dict[str, str]) -> int:
    """Add the item's tags to its document and link it to each of its links' documents (paths
    of this job's notes; others are ignored); how many changes it made."""
    ontology = item["ontology"]
    changed = 0
    for path in ontology.get("links", []):
        other = paths.get(path)
        if other is not None and other != item["doc_id"]:
            cur = conn.execute(
                "INSERT OR IGNORE INTO links VALUES (?, ?), (?, ?)",
                (item["doc_id"], other, other, item["doc_id"]),
            )
            changed += int(cur.rowcount > 0)
    row = conn.execute("SELECT tags FROM documents WHERE doc_id = ?", (item["doc_id"],)).fetchone()
    tags = set(json.loads(row["tags"]))
    new = set(ontology.get("tags", [])) - tags
    if new:
        conn.execute(
            "UPDATE documents SET tags = ? WHERE doc_id = ?",
            (json.dumps(sorted(tags | new)), item["doc_id"]),
        )
    return changed + len(new)


@example_step("memory_first_v2.analytics")
def analytics(ctx: StepContext) -> dict[str, Any]:
    """Report what the job did: documents, summaries, proposals by kind and status."""
    with store.reading(NAME, SCHEMA) as conn:
        docs = _job_documents(conn, ctx.job_id)
        items = _proposals(conn, ctx.job_id)
    summarized = sum(1 for doc in track(ctx, docs) if doc["summary"])
    by_status = Counter(p["status"] for p in items)
    rate = round(by_status["applied"] / len(items), 4) if items else 0.0
    ctx.log(
        f"{len(docs)} document(s), {summarized} summarised, {len(items)} proposal(s), {rate:.0%} applied"
    )
    ctx.metric("approval_rate", rate, "ratio")
    charge_compute(ctx, len(docs) + len(items))
    return {
        "documents": len(docs),
        "summarized": summarized,
        "proposals": len(items),
        "by_kind": dict(sorted(Counter(p["kind"] for p in items).items())),
        "by_status": dict(sorted(by_status.items())),
        "approval_rate": rate,
        "mean_confidence": round(math.fsum(p["confidence"] for p in items) / len(items), 4)
        if items
        else 0.0,
    }


@snapshot("memory_first_v2.state")
def state() -> dict[str, int]:
    """Counts of the memory store: what a job added shows as the delta of two snapshots."""
    with store.reading(NAME, SCHEMA) as conn:
        docs = conn.execute(
            """
            SELECT count(*) AS total, count(keywords) AS with_keywords, count(summary) AS with_summary,
                   count(*) FILTER (WHERE tags != '[]') AS with_tags FROM documents
            """
        ).fetchone()
        status = dict(
            conn.execute("SELECT status, count(*) FROM proposals GROUP BY status").fetchall()
        )
        links = conn.execute("SELECT count(*) FROM links").fetchone()[0]
    return {
        "documents_total": docs["total"],
        "documents_with_keywords": docs["with_keywords"],
        "documents_with_summary": docs["with_summary"],
        "documents_with_tags": docs["with_tags"],
        "proposals_total": sum(status.values()),
        **{
            f"proposals_{s}": int(status.get(s, 0))
            for s in ("pending", "approved", "rejected", "applied")
        },
        "links_total": int(links),
    }


@expected_work("memory_first_v2.expected")
def expected(payload: dict[str, Any]) -> dict[str, int]:
    """What a run with this input will process: the notes under root_prefix not yet in the
    memory store, those in it without keywords or summary, and proposals awaiting review."""
    knobs = Knobs.from_input(payload)
    prefix = str(payload.get("root_prefix") or "")
    ids = [
        d["doc_id"]
        for d in generate_documents(knobs.seed, knobs.records)
        if d["path"].startswith(prefix)
    ]
    with store.reading(NAME, SCHEMA) as conn:
        known = {r[0] for r in conn.execute("SELECT doc_id FROM documents")}
        stored = conn.execute(
            "SELECT count(*) FILTER (WHERE keywords IS NULL), count(*) FILTER (WHERE summary IS NULL)"
            " FROM documents"
        ).fetchone()
        review = conn.execute("SELECT count(*) FROM proposals WHERE status = 'pending'").fetchone()
    new = sum(1 for i in ids if i not in known)
    return {
        "pending_collect": new,
        "pending_index": int(stored[0]) + new,
        "pending_summary": int(stored[1]) + new,
        "pending_review": int(review[0]),
    }
