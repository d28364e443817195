"""The Server-Sent Events parser."""

from __future__ import annotations

from apiclient.sse import Message, SSEParser


def feed(lines: list[str]) -> list[Message]:
    parser = SSEParser()
    return [m for m in (parser.feed(line) for line in lines) if m is not None]


def test_events_with_ids_types_and_multiline_data() -> None:
    messages = feed(
        [
            "id: 7",
            "event: step_completed",
            'data: {"a":',
            "data: 1}",
            "",
            ": keep-alive",
            "",
            "data: x",
            "",
        ]
    )
    assert messages == [Message("step_completed", '{"a":\n1}', "7"), Message("message", "x", "7")]


def test_comments_alone_dispatch_nothing_and_cr_is_stripped() -> None:
    assert feed([": ping", "", "", "retry: 1000\r", ""]) == [Message("message", "", None)]
