"""memory_first_v2: sources -> index_extract -> summarize -> proposals -> review ->
apply -> analytics over generated notes, kept in a memory store (SQLite, see store.py).

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
from examples.steps.llm import DEFAULT_MODEL, PRICES, Usage

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
    model = str(ctx.input.get("model") or DEFAULT_MODEL)
    if model not in PRICES:
        raise ValueError(f"unknown model {model!r}; known: {', '.join(sorted(PRICES))}")
    return model


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
    """Propose tags and links for the job's documents (simulated model); a paginated result list."""
    usage = Usage(_model(ctx))
    limit = int(ctx.input.get("limit", DEFAULT_LIMIT))
    with store.reading(NAME, SCHEMA) as conn:
        docs = _job_documents(conn, ctx.job_id)
    items = propose(docs, limit)
    answers: dict[str, list[dict[str, str]]] = {}
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
    ctx.log(f"generated {len(items)} proposal(s) (limit {limit}): {dict(kinds)}")
    ctx.metric("proposals", len(items), "proposals")
    return {"items": items, "summary": f"Generated {len(items)} proposal(s)"}


@example_step("memory_first_v2.review")
def review(ctx: StepContext) -> dict[str, Any]:
    """Approve the proposals at or above params.min_confidence and reject the rest."""
    threshold = float(ctx.params.get("min_confidence", DEFAULT_MIN_CONFIDENCE))
    with store.reading(NAME, SCHEMA) as conn:
        items = _proposals(conn, ctx.job_id)
    if len(items) != len(ctx.upstream["proposals"]["items"]):
        raise ValueError("the stored proposals differ from what the proposals step returned")
    decisions = [
        ("approved" if p["confidence"] >= threshold else "rejected", p["id"])
        for p in track(ctx, items)
    ]
    with store.writing(NAME, SCHEMA) as conn:
        conn.executemany(
            "UPDATE proposals SET status = ? WHERE job_id = ? AND proposal_id = ?",
            [(status, ctx.job_id, pid) for status, pid in decisions],
        )
    approved = sum(1 for status, _ in decisions if status == "approved")
    ctx.log(f"reviewed {len(items)} proposal(s) at confidence >= {threshold}: {approved} approved")
    ctx.metric("approved", approved, "proposals")
    ctx.metric("rejected", len(items) - approved, "proposals")
    charge_compute(ctx, len(items))
    return {
        "reviewed": len(items),
        "approved": approved,
        "rejected": len(items) - approved,
        "min_confidence": threshold,
    }


@example_step("memory_first_v2.apply")
def apply(ctx: StepContext) -> dict[str, Any]:
    """Apply the approved proposals to the memory: tags onto documents, links between them."""
    with store.reading(NAME, SCHEMA) as conn:
        approved = _proposals(conn, ctx.job_id, "approved")
        paths = {doc["path"]: doc["doc_id"] for doc in _job_documents(conn, ctx.job_id)}
    todo = list(track(ctx, approved))
    with store.writing(NAME, SCHEMA) as conn:
        changed = sum(_apply_one(conn, item, paths) for item in todo)
        conn.execute(
            "UPDATE proposals SET status = 'applied' WHERE job_id = ? AND status = 'approved'",
            (ctx.job_id,),
        )
    kinds = Counter(p["kind"] for p in approved)
    ctx.log(f"applied {len(approved)} proposal(s) {dict(kinds)}; {changed} changed the memory")
    ctx.metric("applied", len(approved), "proposals")
    charge_compute(ctx, len(approved))
    return {"applied": len(approved), "tags": kinds["tag"], "links": kinds["link"]}


def _apply_one(conn: sqlite3.Connection, item: dict[str, Any], paths: dict[str, str]) -> int:
    if item["kind"] == "link":
        other = paths[item["ontology"]["related"]]
        cur = conn.execute(
            "INSERT OR IGNORE INTO links VALUES (?, ?), (?, ?)",
            (item["doc_id"], other, other, item["doc_id"]),
        )
        return int(cur.rowcount > 0)
    row = conn.execute("SELECT tags FROM documents WHERE doc_id = ?", (item["doc_id"],)).fetchone()
    tags = json.loads(row["tags"])
    if item["ontology"]["tag"] in tags:
        return 0
    conn.execute(
        "UPDATE documents SET tags = ? WHERE doc_id = ?",
        (json.dumps(sorted([*tags, item["ontology"]["tag"]])), item["doc_id"]),
    )
    return 1


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
