"""Reading the documentation's code blocks: which pages there are, their fenced blocks, and
the ``<!-- snippet: ... -->`` directives that may precede a block.

Directives are HTML comments, so they do not show in the rendered page. The last non-blank
line before a fence may be one of:

- ``<!-- snippet: not-run (REASON) -->``: the next block is not run. The reason is required
  and is listed in the test report.
- ``<!-- snippet: file NAME -->``: the next block (any language, e.g. the ``payhub.toml`` a
  page shows) is written to ``NAME`` in the page's working directory when the page's run
  reaches it, so later Python blocks read exactly the file the reader sees.
"""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"

_FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})(?P<info>[^`]*)$")
_DIRECTIVE = re.compile(r"^\s*<!--\s*snippet:\s*(?P<body>.*?)\s*-->\s*$")
_NOT_RUN = re.compile(r"^not-run(?:\s*\((?P<reason>.*)\))?$")
_FILE = re.compile(r"^file\s+(?P<name>[\w.\-][\w.\-/]*)$")
PYTHON = {"python", "py", "python3"}


class DirectiveError(ValueError):
    """A ``snippet:`` directive the test does not understand, or a not-run without reason."""


@dataclass(frozen=True)
class Block:
    page: str  # path relative to the repository root
    line: int  # 1-based line of the first line of code
    language: str
    code: str
    not_run: str | None = None  # the reason, when the block is marked not-run
    file: str | None = None  # where to write the block, when it is marked as a file

    @property
    def is_python(self) -> bool:
        return self.language in PYTHON


def pages() -> list[Path]:
    """README.md and every Markdown page under docs/, in a stable order."""
    return [ROOT / "README.md", *sorted(DOCS.rglob("*.md"))]


def page_id(path: Path) -> str:
    """The page's path from the repository root (its test id)."""
    try:
        return path.resolve().relative_to(ROOT).as_posix()
    except ValueError:
        return path.name


def blocks(path: Path) -> list[Block]:
    """Every fenced block of the page, in order, with the directive that precedes it."""
    lines = path.read_text("utf-8").splitlines()
    found: list[Block] = []
    index = 0
    while index < len(lines):
        opening = _FENCE.match(lines[index])
        if opening is None:
            index += 1
            continue
        fence, indent = opening["fence"], opening["indent"]
        language = (opening["info"].strip().split() or [""])[0].lower()
        end = index + 1
        while end < len(lines):
            closing = lines[end].strip()
            if closing.startswith(fence[0] * len(fence)) and not closing.strip(fence[0]):
                break
            end += 1
        body = [
            line[len(indent) :] if line.startswith(indent) else line
            for line in lines[index + 1 : end]
        ]
        not_run, file = _directive(path, lines, index)
        found.append(
            Block(
                page=page_id(path),
                line=index + 2,
                language=language,
                code=textwrap.dedent("\n".join(body)) + "\n",
                not_run=not_run,
                file=file,
            )
        )
        index = end + 1
    return found


def _directive(path: Path, lines: list[str], fence_index: int) -> tuple[str | None, str | None]:
    before = fence_index - 1
    while before >= 0 and not lines[before].strip():
        before -= 1
    if before < 0:
        return None, None
    directive = _DIRECTIVE.match(lines[before])
    if directive is None:
        return None, None
    where = f"{page_id(path)}:{before + 1}"
    body = directive["body"]
    if (not_run := _NOT_RUN.match(body)) is not None:
        reason = (not_run["reason"] or "").strip()
        if not reason:
            raise DirectiveError(f"{where}: 'snippet: not-run' needs a reason: not-run (REASON)")
        return reason, None
    if (file := _FILE.match(body)) is not None:
        name = Path(file["name"])
        if ".." in name.parts:
            raise DirectiveError(
                f"{where}: 'snippet: file' names a file inside the page's directory"
            )
        return None, file["name"]
    raise DirectiveError(f"{where}: unknown directive {body!r} (not-run (REASON) or file NAME)")
