"""Secrets redacted wherever data leaves the database: the export, and what viewers read
through the API (inputs, outputs, params, logs, errors, tracebacks, events).

Two sources of rules: our own key names (a value under `password`, `api_key`, `X-Api-Key`,
... is hidden whole) and text patterns (credentials in URLs, `Bearer ...`, our API tokens,
`key=value` / `"key": "value"` pairs, PEM private keys, `sk-...` keys), plus the maintained
detectors of Yelp's `detect-secrets` (AWS, GitHub, GitLab, JWT, Slack, Stripe, OpenAI,
private keys, keyword assignments...), run on each line of free text. The high-entropy
detectors are left out: they would hide ids and hashes.
"""

from __future__ import annotations

import dataclasses
import re
from functools import cache
from typing import Any

REDACTED = "[REDACTED]"

_SECRET_WORDS = (
    r"password|passwd|pwd|passphrase|secrets?|token|api[_-]?key|access[_-]?key|secret[_-]?key|"
    r"private[_-]?key|client[_-]?secret|auth|authorization|dsn|credentials?|cookie|"
    r"session[_-]?id|signature|bearer|connection[_-]?string|conn[_-]?str"
)
_ANY_WORD = re.compile(_SECRET_WORDS, re.I)
_SECRET_KEY = re.compile(rf"(^|_)({_SECRET_WORDS})(_|$)")
_URL_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.\-]*://)[^\s/@]+@")
_URL_QUERY_SECRET = re.compile(rf"(?i)([?&;](?:[a-z0-9_\-]*?)(?:{_SECRET_WORDS})=)[^&\s#\"']+")
_BEARER = re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=\-]{8,}")
_OUR_TOKEN = re.compile(r"\bjm_[0-9a-f]{8}_[A-Za-z0-9_\-]{20,}")
_PAIR = re.compile(
    rf"(?i)\b([a-z0-9_\-]*(?:{_SECRET_WORDS}))([\"']?\s*[=:]\s*)"
    rf"(\"[^\"]*\"|'[^']*'|(?![^\s,;&\"'}}]*:(?:\s|$))[^\s,;&\"'}}]+)"  # not the next key
)
_PEM = re.compile(
    r"-----BEGIN ([A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?)-----.*?(?:-----END \1-----|\Z)", re.DOTALL
)
_SK_KEY = re.compile(r"\bsk-(?:[A-Za-z0-9]+-)*[A-Za-z0-9_]{20,}")
_TOKEN_CHARS = re.compile(r"[A-Za-z0-9_\-.+/=~]")
_SKIPPED_DETECTORS = frozenset(
    {"Base64 High Entropy String", "Hex High Entropy String", "Public IP (ipv4)"}
)
_DETECT_MIN_LENGTH = 12  # shorter text cannot hold a detector's secret
# a line without any of these holds nothing the detectors find (it saves them on most lines)
_CANDIDATE = re.compile(r"[A-Za-z0-9_\-.+/=~]{16,}|pass|pwd|key|secret|token|auth|cred|://", re.I)


def is_secret_key(key: str) -> bool:
    snake = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", key)
    normal = re.sub(r"[^a-z0-9]+", "_", snake.lower()).strip("_")
    return bool(_SECRET_KEY.search(normal))


@cache
def _detectors() -> tuple[Any, ...]:
    """detect-secrets' plugins, once per process (imported late: workers never need them)."""
    from detect_secrets.core.plugins.util import get_mapping_from_secret_type_to_class

    mapping: dict[str, Any] = get_mapping_from_secret_type_to_class()
    return tuple(cls() for kind, cls in sorted(mapping.items()) if kind not in _SKIPPED_DETECTORS)


def _token_span(line: str, start: int, end: int) -> tuple[int, int]:
    """The whole token around a detector's match (some report only a prefix, like `ghp`)."""
    while start > 0 and _TOKEN_CHARS.match(line[start - 1]):
        start -= 1
    while end < len(line) and _TOKEN_CHARS.match(line[end]):
        end += 1
    return start, end


def _detected(line: str) -> str:
    spans: list[tuple[int, int]] = []
    for plugin in _detectors():
        for value in plugin.analyze_string(line):
            for match in re.finditer(re.escape(value), line) if value else ():
                start, end = _token_span(line, *match.span())
                if len(value) >= 8 or end - start >= 16:  # a short value: only inside a token
                    spans.append((start, end))
    for start, end in sorted(set(spans), reverse=True):
        line = line[:start] + REDACTED + line[end:]
    return line


def _hide_pair(m: re.Match[str]) -> str:
    value = m.group(3)
    if REDACTED in value:
        return m.group(0)
    quote = value[0] if value[0] in "\"'" else ""
    return f"{m.group(1)}{m.group(2)}{quote}{REDACTED}{quote}"


def redact_text(text: str) -> str:
    text = _PEM.sub(REDACTED, text)
    text = _URL_USERINFO.sub(rf"\1{REDACTED}@", text)
    text = _URL_QUERY_SECRET.sub(rf"\1{REDACTED}", text)
    text = _BEARER.sub(rf"\1 {REDACTED}", text)
    text = _OUR_TOKEN.sub(REDACTED, text)
    text = _SK_KEY.sub(REDACTED, text)
    if _ANY_WORD.search(text):  # the pair rule is the slow one: only where a word could key it
        text = _PAIR.sub(_hide_pair, text)
    if len(text) < _DETECT_MIN_LENGTH:
        return text
    return "\n".join(
        _detected(line) if len(line) >= _DETECT_MIN_LENGTH and _CANDIDATE.search(line) else line
        for line in text.split("\n")
    )


def redact(value: Any) -> Any:
    """A copy of `value` with secrets replaced by "[REDACTED]": dicts (by key and value),
    lists, text, and the frozen rows of the queries (each field's value)."""
    if isinstance(value, dict):
        return {
            k: REDACTED if isinstance(k, str) and is_secret_key(k) and v is not None else redact(v)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [redact(v) for v in value]
    if isinstance(value, str):
        return redact_text(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.replace(
            value, **{f.name: redact(getattr(value, f.name)) for f in dataclasses.fields(value)}
        )
    return value
