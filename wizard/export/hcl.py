"""A tiny HCL writer that emits what `terraform fmt` would: two-space indentation, the `=` of consecutive
single-line attributes aligned, a multi-line attribute (a map) or a nested block ending an alignment run, and a
blank line between top-level blocks. Only the shapes the Terraform export needs: strings, references, lists of
expressions, maps of strings, nested blocks.
"""

from __future__ import annotations

from dataclasses import dataclass, field

INDENT = "  "


def string(value: str) -> str:
    """An HCL quoted string: escapes, and `${`/`%{` doubled so they stay literal text (no interpolation)."""
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r") \
        .replace("\t", "\\t").replace("${", "$${").replace("%{", "%%{")
    return f'"{escaped}"'


def strings(values: list[str]) -> str:
    return "[" + ", ".join(string(v) for v in values) + "]"


@dataclass
class Attr:
    name: str
    value: str  # an HCL expression on one line (use `string()` for text)


@dataclass
class Map:
    name: str
    entries: dict[str, str]  # key → HCL expression
    bare: bool = False  # keys written as identifiers (`source = …`), else quoted (`"created-by" = …`)


@dataclass
class Block:
    type: str
    labels: tuple[str, ...] = ()
    body: list[Item] = field(default_factory=list)
    comment: tuple[str, ...] = ()  # `# ` lines written just above the block


Item = Attr | Map | Block


def _body(items: list[Item], depth: int) -> list[str]:
    pad = INDENT * depth
    lines: list[str] = []
    run: list[tuple[str, str]] = []

    def flush() -> None:
        width = max((len(name) for name, _ in run), default=0)
        lines.extend(f"{pad}{name.ljust(width)} = {value}" for name, value in run)
        run.clear()

    for item in items:
        if isinstance(item, Attr):
            run.append((item.name, item.value))
        elif isinstance(item, Map) and not item.entries:
            run.append((item.name, "{}"))
        elif isinstance(item, Map):
            flush()
            lines.append(f"{pad}{item.name} = {{")
            inner = {(k if item.bare else string(k)): v for k, v in item.entries.items()}
            width = max(len(k) for k in inner)
            lines.extend(f"{pad}{INDENT}{k.ljust(width)} = {v}" for k, v in inner.items())
            lines.append(f"{pad}}}")
        else:
            flush()
            lines.extend(_block(item, depth))
    flush()
    return lines


def _block(block: Block, depth: int) -> list[str]:
    pad = INDENT * depth
    head = " ".join([block.type, *(string(label) for label in block.labels)])
    above = [f"{pad}# {line}" for line in block.comment]
    if not block.body:
        return [*above, f"{pad}{head} {{}}"]
    return [*above, f"{pad}{head} {{", *_body(block.body, depth + 1), f"{pad}}}"]


def document(blocks: list[Block], header: list[str] | None = None) -> str:
    """Top-level blocks separated by blank lines, after `# ` comment lines."""
    parts = ["\n".join(f"# {line}" for line in header)] if header else []
    parts += ["\n".join(_block(block, 0)) for block in blocks]
    return "\n\n".join(parts) + "\n"
