"""Read YAML keeping the line of every key, so problems can be shown as file:line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

Lines = dict[tuple[str | int, ...], int]


class YamlProblem(Exception):
    """The file is not readable YAML; carries the 1-based line."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line


def read_yaml(path: Path) -> tuple[Any, Lines]:
    """Parse one YAML document; return the data and a map from key path to line."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise YamlProblem(1, f"not UTF-8 text ({exc.reason})") from None
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        raise YamlProblem(line, f"invalid YAML: {exc.problem or exc.context}") from None
    except yaml.YAMLError as exc:
        raise YamlProblem(1, f"invalid YAML: {exc}") from None
    lines: Lines = {}
    if node is not None:
        _walk(node, (), lines)
    return data, lines


def _walk(node: yaml.Node, path: tuple[str | int, ...], lines: Lines) -> None:
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            sub = (*path, str(key.value))
            lines[sub] = key.start_mark.line + 1
            _walk(value, sub, lines)
            lines[sub] = key.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _walk(item, (*path, i), lines)


def line_of(lines: Lines, loc: tuple[str | int, ...]) -> int:
    """The line of the deepest known prefix of a pydantic error location."""
    for end in range(len(loc), -1, -1):
        key = tuple(str(p) if isinstance(p, str) else p for p in loc[:end])
        if key in lines:
            return lines[key]
    return 1
