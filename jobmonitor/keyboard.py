"""Keyboard shortcuts of the lists: `/` focuses the page's search box, `j`/`k` move through the
rows, `Enter` opens the current one. Pure browser script, installed once per window by every
signed-in page's load: it follows the DOM (rows marked `data-kbd-row`, the search box
`data-kbd-search`), so a list takes part by marking its elements, with no state of its own.
Moving to a row focuses its first link, so `Enter` is the link's own (client-side) navigation.
Keys typed into a field, with a modifier, or while a dialog or menu is open are left alone."""

from __future__ import annotations

import reflex as rx
from reflex.event import EventSpec

ROW = "data-kbd-row"  # on each row (its first link is what Enter opens)
SEARCH = "data-kbd-search"  # on the search input
CURRENT = "data-kbd-current"  # set by the script on the current row

SCRIPT = (
    """
(() => {
  if (window.__jmKeys) return;
  window.__jmKeys = true;
  const style = document.createElement('style');
  style.textContent = `[ROW][CURRENT] > td { background: var(--accent-a3); }
    [ROW][CURRENT] > td:first-child { box-shadow: inset 3px 0 0 var(--accent-9); }`;
  document.head.appendChild(style);
  const typing = (el) => el && (el.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName));
  const overlay = () => document.querySelector('[role=dialog],[role=alertdialog],[role=menu],[role=listbox]');
  document.addEventListener('keydown', (e) => {
    if (e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey) return;
    if (typing(e.target)) {
      if (e.key === 'Escape' && e.target.hasAttribute('SEARCH')) e.target.blur();
      return;
    }
    if (overlay()) return;
    if (e.key === '/') {
      const box = document.querySelector('[SEARCH]');
      if (box) { e.preventDefault(); box.focus(); box.select(); }
      return;
    }
    if (e.key !== 'j' && e.key !== 'k' && e.key !== 'Enter') return;
    const rows = Array.from(document.querySelectorAll('[ROW]'));
    const at = rows.findIndex((r) => r.hasAttribute('CURRENT'));
    if (e.key === 'Enter') {
      if (at < 0 || (e.target && e.target !== document.body && e.target.closest('a,button,[role=button],[role=tab],[role=checkbox]'))) return;
      const link = rows[at].querySelector('a[href]');
      if (link) { e.preventDefault(); link.click(); }
      return;
    }
    if (!rows.length) return;
    e.preventDefault();
    const next = at < 0 ? 0 : Math.min(Math.max(at + (e.key === 'j' ? 1 : -1), 0), rows.length - 1);
    rows.forEach((r) => r.removeAttribute('CURRENT'));
    rows[next].setAttribute('CURRENT', '');
    const link = rows[next].querySelector('a[href]');
    if (link) link.focus({ preventScroll: true });
    rows[next].scrollIntoView({ block: 'nearest' });
  });
})();
""".replace("CURRENT", CURRENT)
    .replace("SEARCH", SEARCH)
    .replace("ROW", ROW)
)


def install_shortcuts() -> EventSpec:
    """Install the shortcuts in this browser window (a no-op when already there)."""
    return rx.call_script(SCRIPT)
