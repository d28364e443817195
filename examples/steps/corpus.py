"""Generated notes for memory_first_v2: documents from a seed, their words and keywords."""

from __future__ import annotations

import itertools
import random
import re
from collections import Counter
from typing import Any

from examples.steps.common import digest

TOPICS: dict[str, tuple[str, ...]] = {
    "garden": ("tomato", "compost", "seedling", "soil", "harvest", "pruning", "mulch", "basil"),
    "music": ("guitar", "chord", "rhythm", "melody", "practice", "scale", "tempo", "album"),
    "travel": ("train", "passport", "itinerary", "hostel", "museum", "coast", "luggage", "ferry"),
    "cooking": ("recipe", "oven", "dough", "spice", "broth", "knife", "simmer", "pantry"),
    "software": ("deploy", "database", "queue", "worker", "latency", "schema", "cache", "release"),
    "health": (
        "sleep",
        "running",
        "stretch",
        "protein",
        "recovery",
        "hydration",
        "posture",
        "walk",
    ),
}
FOLDERS = ("journal", "notes", "people", "projects")
STOPWORDS = ("a", "about", "after", "and", "before", "for", "from", "into", "the", "with")
_WORD = re.compile(r"[a-z]+")


def generate_documents(seed: int, count: int) -> list[dict[str, Any]]:
    """`count` markdown notes from `seed`, each mostly about one topic, with a stable id."""
    rng = random.Random(seed)
    names = sorted(TOPICS)
    documents = []
    for i in range(1, count + 1):
        topic, aside = rng.choice(names), rng.choice(names)
        body = " ".join(_sentence(rng, topic, aside) for _ in range(rng.randint(3, 6)))
        path = f"{rng.choice(FOLDERS)}/{topic}-{i:05d}.md"
        documents.append(
            {
                "doc_id": digest({"path": path, "body": body}),
                "path": path,
                "title": f"{topic.capitalize()} note {i}",
                "topic": topic,
                "body": body,
            }
        )
    return documents


def _sentence(rng: random.Random, topic: str, aside: str) -> str:
    words = []
    for _ in range(rng.randint(6, 12)):
        roll = rng.random()
        pool = TOPICS[topic] if roll < 0.6 else TOPICS[aside] if roll < 0.8 else STOPWORDS
        words.append(rng.choice(pool))
    return " ".join(words).capitalize() + "."


def words(text: str) -> list[str]:
    """The lower-case words of a text, without stopwords."""
    return [w for w in _WORD.findall(text.lower()) if w not in STOPWORDS]


def keywords(text: str, limit: int = 5) -> list[tuple[str, int]]:
    """The most frequent words of a text with their counts (ties in alphabetical order)."""
    counts = Counter(words(text))
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:limit]


def first_sentence(text: str) -> str:
    """The text up to and including its first full stop."""
    head, dot, _ = text.partition(".")
    return head + dot


def summary_of(note: dict[str, Any]) -> str:
    """The (simulated) model's summary of a note: its first sentence and main keywords."""
    topics = [term for term, _ in note["keywords"][:3]]
    return f"{first_sentence(note['body'])} Topics: {', '.join(topics) or 'none'}."


def propose(notes: list[dict[str, Any]], limit: int) -> list[dict[str, Any]]:
    """The (simulated) model's proposals, note by note: tags for its two main keywords and a
    link to the next note with the same main keyword; the first `limit` of them."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for note in notes:
        if note["keywords"]:
            groups.setdefault(note["keywords"][0][0], []).append(note)
    following = {a["doc_id"]: b for group in groups.values() for a, b in itertools.pairwise(group)}
    items: list[dict[str, Any]] = []
    for note in notes:
        items += _tags(note)
        if note["doc_id"] in following:
            items.append(_link(note, following[note["doc_id"]]))
        if len(items) >= limit:
            break
    return items[:limit]


def _tags(note: dict[str, Any]) -> list[dict[str, Any]]:
    total = sum(n for _, n in note["keywords"]) or 1
    return [
        _item(
            "tag",
            note,
            f"Tag {note['path']} with '{term}'",
            {"type": "tag", "tags": [term], "links": []},
            0.4 + 0.6 * n / total,
        )
        for term, n in note["keywords"][:2]
    ]


def _link(note: dict[str, Any], other: dict[str, Any]) -> dict[str, Any]:
    mine, theirs = set(words(note["body"])), set(words(other["body"]))
    via = note["keywords"][0][0]
    title = f"Link {note['path']} to {other['path']} (both about '{via}')"
    overlap = len(mine & theirs) / len(mine | theirs)
    ontology = {"type": "link", "tags": [], "links": [other["path"]], "via": via}
    return _item("link", note, title, ontology, overlap)


def _item(
    kind: str, note: dict[str, Any], title: str, ontology: dict[str, Any], confidence: float
) -> dict[str, Any]:
    return {
        "id": f"p_{digest({'kind': kind, 'doc': note['doc_id'], 'ontology': ontology})[:12]}",
        "kind": kind,
        "document": note["path"],
        "doc_id": note["doc_id"],
        "title": title,
        "ontology": ontology,
        "confidence": round(min(confidence, 0.99), 2),
        "status": "pending",
    }
