"""Split documents into passages that follow their structure.

A document is parsed into sections (a heading path such as ``Dags > Declaring a Dag``) made of
blocks (paragraphs, lists, code blocks). Blocks are packed into chunks of at most
``max_chars`` characters without crossing a section boundary; a code block is never split, and
an oversized paragraph is split on sentence and word boundaries with LangChain's recursive
splitter. Python files are cut at top-level functions and classes (via ``ast``).

Every chunk carries the metadata the store and the citations need: source, title, section.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

MAX_CHARS = 1200
# Bump when chunking changes: indexed files are then re-chunked and re-embedded on the next run.
CHUNKING_VERSION = "2"
SUFFIXES = {".md": "markdown", ".markdown": "markdown", ".rst": "rst", ".txt": "text", ".py": "python"}


@dataclass(frozen=True)
class Chunk:
    text: str
    source: str
    title: str
    section: str
    position: int = 0
    metadata: dict[str, str | int | float | bool] = field(default_factory=dict)


@dataclass
class _Section:
    path: list[str]
    blocks: list[tuple[str, bool]] = field(default_factory=list)  # (text, is_code)


def kind_of(path: Path) -> str | None:
    return SUFFIXES.get(path.suffix.lower())


def chunk_text(text: str, source: str, kind: str, max_chars: int = MAX_CHARS) -> list[Chunk]:
    """Chunks of ``text`` (a document of ``kind``: markdown, rst, text or python)."""
    parsers = {"markdown": _parse_markdown, "rst": _parse_rst, "text": _parse_text, "python": _parse_python}
    if kind not in parsers:
        raise ValueError(f"unknown document kind {kind!r}")
    sections = parsers[kind](text)
    title = Path(source).name if kind == "python" else _document_title(sections, source)
    chunks: list[Chunk] = []
    for section in sections:
        section_path = section.path[1:] if section.path and section.path[0] == title else section.path
        section_name = " > ".join(section_path)
        for body in _pack(section.blocks, max_chars):
            chunks.append(Chunk(body, source, title, section_name, len(chunks)))
    return chunks


def _document_title(sections: list[_Section], source: str) -> str:
    for section in sections:
        if section.path:
            return section.path[0]
    return Path(source).stem.replace("-", " ").replace("_", " ")


# -- packing ------------------------------------------------------------------------------------


def _pack(blocks: list[tuple[str, bool]], max_chars: int) -> Iterator[str]:
    current: list[str] = []
    size = 0
    for text, is_code in blocks:
        pieces = [text] if is_code or len(text) <= max_chars else _split_long(text, max_chars)
        for piece in pieces:
            if current and size + len(piece) + 2 > max_chars:
                yield "\n\n".join(current)
                current, size = [], 0
            current.append(piece)
            size += len(piece) + 2
    if current:
        yield "\n\n".join(current)


def _split_long(text: str, max_chars: int) -> list[str]:
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    splitter = RecursiveCharacterTextSplitter(
        chunk_size=max_chars, chunk_overlap=0, separators=["\n\n", "\n", ". ", " ", ""]
    )
    return [piece.strip() for piece in splitter.split_text(text) if piece.strip()]


def _blocks(lines: list[str]) -> list[tuple[str, bool]]:
    """Paragraph blocks of plain lines (blank-line separated)."""
    blocks: list[tuple[str, bool]] = []
    current: list[str] = []
    for line in [*lines, ""]:
        if line.strip():
            current.append(line.rstrip())
        elif current:
            blocks.append(("\n".join(current).strip("\n"), False))
            current = []
    return blocks


# -- Markdown -----------------------------------------------------------------------------------

_MD_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
_MD_FENCE = re.compile(r"^\s*(```|~~~)")


def _parse_markdown(text: str) -> list[_Section]:
    sections = [_Section([])]
    stack: list[tuple[int, str]] = []
    prose: list[str] = []
    lines = text.splitlines()
    index = 0

    def flush() -> None:
        sections[-1].blocks.extend(_blocks(prose))
        prose.clear()

    while index < len(lines):
        line = lines[index]
        fence = _MD_FENCE.match(line)
        if fence:
            flush()
            code = [line]
            index += 1
            while index < len(lines) and not lines[index].strip().startswith(fence.group(1)):
                code.append(lines[index])
                index += 1
            if index < len(lines):
                code.append(lines[index])
            sections[-1].blocks.append(("\n".join(code), True))
            index += 1
            continue
        heading = _MD_HEADING.match(line)
        if heading:
            flush()
            level = len(heading.group(1))
            while stack and stack[-1][0] >= level:
                stack.pop()
            stack.append((level, heading.group(2).strip()))
            sections.append(_Section([name for _, name in stack]))
        else:
            prose.append(line)
        index += 1
    flush()
    return [s for s in sections if s.blocks]


# -- reStructuredText ---------------------------------------------------------------------------

_RST_ADORNMENT = re.compile(r"^([=\-~^\"'`#*+:.])\1{2,}\s*$")
_RST_DIRECTIVE = re.compile(r"^\s*\.\.\s+([\w:-]+)::\s*(.*)$")
_RST_CODE_DIRECTIVES = {"code-block", "code", "sourcecode", "doctest", "ipython"}
_RST_SKIPPED_DIRECTIVES = {
    "include", "exampleinclude", "image", "figure", "toctree", "contents", "literalinclude", "raw", "spelling:word-list",
    "automodule", "autoclass", "autofunction", "autoapimodule", "jinja", "redirect-from", "csv-table",
}  # fmt: skip
_RST_COMMENT_OR_LABEL = re.compile(r"^\s{0,2}\.\.(\s|$)")
_RST_OPTION = re.compile(r"^\s*:[\w-]+:")


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def _parse_rst(text: str) -> list[_Section]:
    lines = text.splitlines()
    sections = [_Section([])]
    styles: list[tuple[str, bool]] = []
    stack: list[tuple[int, str]] = []
    prose: list[str] = []
    index = 0

    def flush() -> None:
        sections[-1].blocks.extend(_blocks(prose))
        prose.clear()

    def indented_body(start: int, base: int) -> int:
        end = start
        while end < len(lines) and (not lines[end].strip() or _indent(lines[end]) > base):
            end += 1
        while end > start and not lines[end - 1].strip():
            end -= 1
        return end

    while index < len(lines):
        line = lines[index]
        nxt = lines[index + 1] if index + 1 < len(lines) else ""
        # Section title: "Title" + underline, optionally with an overline of the same character.
        overline = bool(_RST_ADORNMENT.match(line)) and index + 2 < len(lines)
        if overline and lines[index + 1].strip() and _RST_ADORNMENT.match(lines[index + 2]):
            title_text, style, consumed = lines[index + 1].strip(), (line.strip()[0], True), 3
        elif (
            line.strip()
            and not line.startswith(" ")
            and _RST_ADORNMENT.match(nxt)
            and len(nxt.strip()) >= len(line.strip())
        ):
            title_text, style, consumed = line.strip(), (nxt.strip()[0], False), 2
        else:
            title_text = ""
        if title_text:
            flush()
            if style not in styles:
                styles.append(style)
            level = styles.index(style)
            while stack and stack[-1][0] >= level:
                stack.pop()
            stack.append((level, title_text))
            sections.append(_Section([name for _, name in stack]))
            index += consumed
            continue
        directive = _RST_DIRECTIVE.match(line)
        if directive and directive.group(1) not in _RST_CODE_DIRECTIVES:
            end = indented_body(index + 1, _indent(line))
            if directive.group(1) not in _RST_SKIPPED_DIRECTIVES:
                # Admonitions (note, warning, tip, versionadded...): their body is ordinary prose.
                flush()
                prose.append(directive.group(2))
                prose.extend(body.strip() for body in lines[index + 1 : end] if not _RST_OPTION.match(body))
                flush()
            index = end
            continue
        if not directive and _RST_COMMENT_OR_LABEL.match(line):
            flush()  # comments (licence headers) and reference labels are not content
            index = indented_body(index + 1, _indent(line))
            continue
        literal = line.rstrip().endswith("::") and not line.lstrip().startswith("..")
        if directive or literal:
            end = indented_body(index + 1, _indent(line))
            if literal:
                prose.append(line.rstrip()[:-1] if not line.rstrip().endswith(" ::") else line.rstrip()[:-3])
                flush()
                code_lines = lines[index + 1 : end]
            else:
                flush()
                code_lines = lines[index:end]
            code = "\n".join(code_lines).strip("\n")
            if code.strip():
                sections[-1].blocks.append((code, True))
            index = end
            continue
        prose.append(line)
        index += 1
    flush()
    return [s for s in sections if s.blocks]


# -- plain text and Python ----------------------------------------------------------------------


def _parse_text(text: str) -> list[_Section]:
    return [_Section([], _blocks(text.splitlines()))]


def _parse_python(text: str) -> list[_Section]:
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return _parse_text(text)
    lines = text.splitlines()
    sections: list[_Section] = []
    header_end = 0
    docstring = ast.get_docstring(tree)
    module = _Section(["module"])
    if docstring:
        module.blocks.append((docstring, False))
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            start = min([node.lineno] + [d.lineno for d in node.decorator_list]) - 1
            end = node.end_lineno or node.lineno
            kind = "class" if isinstance(node, ast.ClassDef) else "def"
            sections.append(_Section([f"{kind} {node.name}"], [("\n".join(lines[start:end]), True)]))
        else:
            end = node.end_lineno or node.lineno
            body = "\n".join(lines[node.lineno - 1 : end])
            if not (isinstance(node, ast.Expr) and isinstance(getattr(node, "value", None), ast.Constant)):
                module.blocks.append((body, True))
            header_end = max(header_end, end)
    return [module, *sections] if module.blocks else sections
