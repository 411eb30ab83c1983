"""Request parameters the way a Rails/Grape service sees them: one hash from every encoding.

The query string, an urlencoded body, a multipart body and a JSON body are merged (body wins
over query string, later keys over earlier ones) and Rails bracket keys become nested values:
`properties[plan]=Pro` -> {"properties": {"plan": "Pro"}}, `features[]=a&features[]=b` -> a list.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qsl

_BRACKETS = re.compile(r"\[([^\[\]]*)\]")


class ParamsError(ValueError):
    """A body that cannot be read with the content type it claims."""


def _key_path(key: str) -> list[str]:
    """`a[b][]` -> ["a", "b", ""]; a key without brackets is a path of one."""
    head, sep, rest = key.partition("[")
    if not sep or not head:
        return [key]
    parts = [head]
    tail = "[" + rest
    position = 0
    for match in _BRACKETS.finditer(tail):
        if match.start() != position:
            return [key]  # junk between brackets: treat the whole thing as a plain key
        parts.append(match.group(1))
        position = match.end()
    if position != len(tail):
        return [key]
    return parts


def _assign(target: dict[str, Any], path: list[str], value: Any) -> None:
    """Store `value` at `path`, creating hashes and lists the way Rack does."""
    node: Any = target
    for index, part in enumerate(path[:-1]):
        following = path[index + 1]
        wanted: type = list if following == "" else dict
        if isinstance(node, list):
            # `a[][b]=1`: start a new hash unless the last one lacks this key
            if node and isinstance(node[-1], dict) and following not in node[-1]:
                node = node[-1]
            else:
                node.append({})
                node = node[-1]
            continue
        child = node.get(part)
        if not isinstance(child, wanted):
            child = wanted()
            node[part] = child
        node = child
    last = path[-1]
    if isinstance(node, list):
        node.append(value)
    else:
        node[last] = value


def nest_pairs(pairs: Iterable[tuple[str, Any]]) -> dict[str, Any]:
    """Fold flat (key, value) pairs with bracket keys into one nested hash."""
    out: dict[str, Any] = {}
    for key, value in pairs:
        _assign(out, _key_path(key), value)
    return out


def deep_merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    """`extra` over `base`; nested hashes merge, anything else is replaced."""
    merged = dict(base)
    for key, value in extra.items():
        current = merged.get(key)
        if isinstance(current, dict) and isinstance(value, dict):
            merged[key] = deep_merge(current, value)
        else:
            merged[key] = value
    return merged


def _multipart_pairs(body: bytes, content_type: str) -> list[tuple[str, str]]:
    """Form fields of a multipart/form-data body (files are read as text too)."""
    match = re.search(r'boundary="?([^";]+)"?', content_type)
    if not match:
        raise ParamsError("multipart body without a boundary")
    delimiter = b"--" + match.group(1).encode("latin-1")
    pairs: list[tuple[str, str]] = []
    for chunk in body.split(delimiter)[1:]:
        if chunk.startswith(b"--"):
            break  # the closing delimiter
        head, sep, content = chunk.partition(b"\r\n\r\n")
        if not sep:
            raise ParamsError("multipart part without headers")
        name_match = re.search(rb'name="([^"]*)"', head)
        if not name_match:
            continue
        if content.endswith(b"\r\n"):
            content = content[:-2]
        pairs.append((name_match.group(1).decode("utf-8"), content.decode("utf-8", "replace")))
    return pairs


def parse_params(query: str, body: bytes, content_type: str | None) -> dict[str, Any]:
    """One parameter hash from the query string and the body, whatever its encoding."""
    params = nest_pairs(parse_qsl(query, keep_blank_values=True))
    if not body:
        return params
    media = (content_type or "").split(";", 1)[0].strip().lower()
    if media == "application/json" or media.endswith("+json"):
        try:
            document = json.loads(body)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ParamsError("the body is not valid JSON") from exc
        if not isinstance(document, dict):
            raise ParamsError("a JSON body must be an object")
        return deep_merge(params, document)
    if media == "multipart/form-data":
        return deep_merge(params, nest_pairs(_multipart_pairs(body, content_type or "")))
    # urlencoded, or no content type at all (curl -d without a header): read it as a form
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ParamsError("the body is not UTF-8") from exc
    return deep_merge(params, nest_pairs(parse_qsl(text, keep_blank_values=True)))
