"""Every ```python block in README.md and docs/ runs as written.

One test per page: the page's blocks run in order in one namespace, like a doctest session
or a reader pasting them into one script. Each page gets a fresh working directory and a
fresh sandbox (every installed emulator, on 127.0.0.1 at a free port) that
``PAYHUB_SANDBOX_URL`` points at, so a gateway configured with ``environment = "sandbox"``
talks to it exactly as it would to ``payhub sandbox``. A fresh sandbox per page keeps pages
independent: the Plutu emulator, like Plutu, refuses an invoice number it has seen before.

A failure names the page, the block and its line, and the error; the traceback points at
the page's own line numbers. ``docs_snippets`` describes the ``<!-- snippet: ... -->``
directives (``not-run (REASON)`` and ``file NAME``); the number of blocks not run, with
their reasons, is printed at the end of the session (``tests/docs/conftest.py``).
"""

from __future__ import annotations

import gc
import os
import sys
import traceback
import types
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
from docs_snippets import Block, DirectiveError, blocks, page_id, pages

from payhub_core.sandbox import SandboxServer, load_emulators

PAGES = pages()


def _has_python(page: Path) -> bool:
    try:
        return any(block.is_python for block in blocks(page))
    except DirectiveError:
        return True  # its test reports the directive


PYTHON_PAGES = [page for page in PAGES if _has_python(page)]


@pytest.fixture
def sandbox(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[SandboxServer]:
    """A fresh sandbox for one page, found through ``PAYHUB_SANDBOX_URL``; the page runs in
    an empty directory with no other ``PAYHUB_*`` variable set."""
    for name in list(os.environ):
        if name.startswith("PAYHUB_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    with SandboxServer(load_emulators()) as server:
        monkeypatch.setenv("PAYHUB_SANDBOX_URL", server.url)
        yield server


def _run(block: Block, number: int, namespace: dict[str, object]) -> None:
    # Blank lines in front, so that tracebacks show the page's own line numbers.
    source = "\n" * (block.line - 1) + block.code
    try:
        exec(compile(source, block.page, "exec", dont_inherit=True), namespace)  # noqa: S102 - running the docs is the point
    except Exception as error:
        shown = "".join(traceback.format_exception(type(error), error, error.__traceback__))
        failure = (
            f"{block.page}, python block {number} (line {block.line}): "
            f"{type(error).__name__}: {error}\n\n{shown.strip()}"
        )
    else:
        return
    pytest.fail(failure, pytrace=False)


def run_page(page_blocks: list[Block]) -> int:
    """Run a page's blocks in order in the current directory; returns how many ran.

    The blocks share one module, so classes and dataclasses defined in them behave as they
    would in a reader's script. A ``file`` block is written when the run reaches it.
    """
    module = types.ModuleType("payhub_docs_page")
    sys.modules[module.__name__] = module
    ran = number = 0
    completed = False
    try:
        for block in page_blocks:
            if block.file is not None:
                target = Path(block.file)
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(block.code, "utf-8")
            if block.is_python:
                number += 1
                if block.not_run is None:
                    _run(block, number, module.__dict__)
                    ran += 1
        completed = True
    finally:
        del sys.modules[module.__name__]
        module.__dict__.clear()
        # Collect what the page left behind now, so that a hub or client it forgot to close
        # fails this page (ResourceWarning is an error in this suite), not a later test. A
        # page that already failed never reached its close(): its own error is the report.
        with warnings.catch_warnings():
            if not completed:
                warnings.simplefilter("ignore", ResourceWarning)
            gc.collect()
    return ran


@pytest.mark.parametrize("page", PYTHON_PAGES, ids=page_id)
def test_page_snippets_run(page: Path, request: pytest.FixtureRequest) -> None:
    try:
        page_blocks = blocks(page)
    except DirectiveError as error:
        pytest.fail(str(error), pytrace=False)
    if not any(block.is_python and block.not_run is None for block in page_blocks):
        pytest.skip("every python block of the page is marked not-run")
    request.getfixturevalue("sandbox")
    assert run_page(page_blocks) > 0


# -- the machinery itself ------------------------------------------------------------------


def _page(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "page.md"
    path.write_text(text, "utf-8")
    return path


def test_blocks_of_a_page_share_one_namespace_in_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    page = _page(
        tmp_path,
        "# p\n\n```python\nfrom decimal import Decimal\ntotal = Decimal('1.10')\n```\n\n"
        "text\n\n- a list item:\n\n  ```python\n  total += Decimal('2')\n  ```\n\n"
        "```python\nassert total == Decimal('3.10'), total\n```\n",
    )
    monkeypatch.chdir(tmp_path)
    assert run_page(blocks(page)) == 3


def test_a_broken_block_names_the_page_block_line_and_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    page = _page(tmp_path, "# p\n\n```python\nx = 1\n```\n\n```python\n\nundefined_name\n```\n")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(pytest.fail.Exception) as failure:
        run_page(blocks(page))
    message = str(failure.value)
    assert "page.md, python block 2 (line 8)" in message
    assert "NameError: name 'undefined_name' is not defined" in message
    assert 'File "page.md", line 9' in message  # the traceback uses the page's lines


def test_not_run_needs_a_reason(tmp_path: Path) -> None:
    for directive in ("not-run", "not-run ()", "not-run (  )"):
        page = _page(tmp_path, f"<!-- snippet: {directive} -->\n```python\nboom\n```\n")
        with pytest.raises(DirectiveError, match="needs a reason"):
            blocks(page)
    page = _page(tmp_path, "<!-- snippet: skip -->\n```python\nboom\n```\n")
    with pytest.raises(DirectiveError, match="unknown directive"):
        blocks(page)


def test_not_run_skips_only_the_next_block_and_file_writes_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    page = _page(
        tmp_path,
        "<!-- snippet: not-run (a Django urls.py fragment) -->\n\n```python\nboom\n```\n\n"
        '<!-- snippet: file conf/payhub.toml -->\n```toml\ndefault = "cards"\n```\n\n'
        "```python\nfrom pathlib import Path\n"
        "assert Path('conf/payhub.toml').read_text() == 'default = \"cards\"\\n'\n```\n",
    )
    found = blocks(page)
    assert [block.not_run for block in found] == ["a Django urls.py fragment", None, None]
    monkeypatch.chdir(tmp_path)
    assert run_page(found) == 1


def test_file_directive_stays_in_the_page_directory(tmp_path: Path) -> None:
    for name in ("../outside.toml", "/etc/payhub.toml"):
        page = _page(tmp_path, f"<!-- snippet: file {name} -->\n```toml\nx = 1\n```\n")
        with pytest.raises(DirectiveError):
            blocks(page)


@pytest.mark.parametrize("page", PAGES, ids=page_id)
def test_every_directive_is_understood(page: Path) -> None:
    """Also on pages without Python: a typo in a directive would silently do nothing."""
    try:
        blocks(page)
    except DirectiveError as error:
        pytest.fail(str(error), pytrace=False)


@pytest.mark.parametrize(
    "page", [page for page in PAGES if "```toml" in page.read_text("utf-8")], ids=page_id
)
def test_toml_blocks_parse(page: Path) -> None:
    """A TOML block is what a reader pastes into payhub.toml or pyproject.toml: it must parse."""
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10
        import tomli as tomllib
    for block in blocks(page):
        if block.language == "toml":
            try:
                tomllib.loads(block.code)
            except tomllib.TOMLDecodeError as error:
                pytest.fail(
                    f"{block.page}, toml block at line {block.line}: {error}", pytrace=False
                )
