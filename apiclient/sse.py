"""A line-by-line parser of the Server-Sent Events wire format (the WHATWG rules the
monitor needs: `id`, `event`, multi-line `data`, comments, blank line dispatches)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Message:
    event: str
    data: str
    id: str | None


class SSEParser:
    """Feed it lines without their newline; it returns a Message at each blank line."""

    def __init__(self) -> None:
        self.last_id: str | None = None
        self._reset()

    def _reset(self) -> None:
        self._event = ""
        self._data: list[str] = []
        self._has_fields = False

    def feed(self, line: str) -> Message | None:
        line = line.rstrip("\r")
        if not line:
            return self._dispatch()
        if line.startswith(":"):
            return None  # a comment (keep-alive)
        field, _, value = line.partition(":")
        value = value.removeprefix(" ")
        self._has_fields = True
        if field == "data":
            self._data.append(value)
        elif field == "event":
            self._event = value
        elif field == "id" and "\0" not in value:
            self.last_id = value
        return None

    def _dispatch(self) -> Message | None:
        if not self._has_fields:
            return None
        message = Message(
            event=self._event or "message", data="\n".join(self._data), id=self.last_id
        )
        self._reset()
        return message
