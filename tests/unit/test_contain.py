"""A bug met on one item is logged and skipped; a lost connection still ends the round."""

from __future__ import annotations

import logging

import psycopg
import pytest

from backend.automation.contain import contained


def test_a_bug_is_logged_and_skipped(caplog: pytest.LogCaptureFixture) -> None:
    done = []
    for item in (1, 2, 3):
        with caplog.at_level(logging.ERROR), contained(f"item {item}"):
            if item == 2:
                raise KeyError("bad row")
            done.append(item)
    assert done == [1, 3]
    assert "item 2 failed; skipped" in caplog.text and "KeyError" in caplog.text


def test_a_lost_connection_is_not_contained() -> None:
    with pytest.raises(psycopg.OperationalError), contained("item"):
        raise psycopg.OperationalError("server closed the connection")
