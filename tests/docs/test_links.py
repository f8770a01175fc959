"""Every relative link in README.md and docs/ points at a file or folder that exists, and
every page under docs/ is in the mkdocs nav (``mkdocs build --strict`` in ``make test``
checks the site as well; this check also covers README.md, which is not part of the site)."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
import yaml
from docs_snippets import DOCS, ROOT, page_id, pages

# [text](target "title"), ![alt](target), [name]: target, <a href="target">
_INLINE = re.compile(r"!?\[[^\]]*\]\(\s*<?(?P<target>[^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
_REFERENCE = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?(?P<target>\S+?)>?(?:\s.*)?$", re.MULTILINE)
_HREF = re.compile(r"""(?:href|src)\s*=\s*["'](?P<target>[^"']+)["']""")
_FENCED = re.compile(r"^[ \t]*(`{3,}|~{3,}).*?^[ \t]*\1[ \t]*$", re.MULTILINE | re.DOTALL)
_CODE_SPAN = re.compile(r"(`+)(?!`).+?(?<!`)\1", re.DOTALL)


def links(text: str) -> list[str]:
    """The link targets of a Markdown page, outside code blocks and code spans."""
    text = _CODE_SPAN.sub("", _FENCED.sub("", text))
    return [
        match["target"]
        for pattern in (_INLINE, _REFERENCE, _HREF)
        for match in pattern.finditer(text)
    ]


def relative_targets(text: str) -> list[str]:
    found = []
    for target in links(text):
        parts = urlsplit(target)
        if parts.scheme or parts.netloc or not parts.path:
            continue  # a URL, or an anchor on the same page
        found.append(unquote(parts.path))
    return found


@pytest.mark.parametrize("page", pages(), ids=page_id)
def test_relative_links_point_at_files_that_exist(page: Path) -> None:
    broken = [
        target
        for target in relative_targets(page.read_text("utf-8"))
        if not (page.parent / target).exists()
    ]
    assert broken == [], f"{page_id(page)} links to missing files: {broken}"


def test_the_link_reader_finds_every_kind_of_link() -> None:
    text = (
        '[a](one.md) ![b](img/two.png) [c](three.md#part "title") [d](https://x.example/)\n'
        '[e](#here) <a href="four.md">f</a> `[g](not-a-link.md)`\n'
        "[ref]: five.md\n\n```md\n[h](in-a-block.md)\n```\n"
    )
    assert relative_targets(text) == ["one.md", "img/two.png", "three.md", "five.md", "four.md"]


def _nav_pages(entries: object) -> list[str]:
    if isinstance(entries, str):
        return [entries]
    if isinstance(entries, list):
        return [page for entry in entries for page in _nav_pages(entry)]
    if isinstance(entries, dict):
        return [page for value in entries.values() for page in _nav_pages(value)]
    return []


def test_every_docs_page_is_in_the_nav() -> None:
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text("utf-8"))
    in_nav = {page for page in _nav_pages(config["nav"]) if not urlsplit(page).scheme}
    on_disk = {path.relative_to(DOCS).as_posix() for path in DOCS.rglob("*.md")}
    assert sorted(on_disk - in_nav) == [], "pages missing from mkdocs.yml nav"
    assert sorted(in_nav - on_disk) == [], "nav entries without a page"
