"""Output shaping shared by every tool: times, sizes, compact text, and small JSON schemas.

Agents read the text content, often with a small context, so results are compact JSON without
indentation, with null/empty fields dropped, times as ISO 8601 UTC, and byte counts shown in a human
form in the text (exact bytes stay in the structured content). Schemas published in tools/list are
compacted here too (no titles, no ``$ref``), because several clients reject ``$ref`` in input schemas
and every character of tools/list costs the model context.
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Collection
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pydantic import BaseModel

    from ..zerobyte.models import MissingSnapshot

__all__ = [
    "MISSING_LISTED",
    "SIZE_KEYS",
    "compact_schema",
    "drop_empty",
    "human_bytes",
    "iso",
    "iso_from_ms",
    "iso_from_seconds",
    "missing_line",
    "mtime_seconds",
    "outline_model",
    "outline_schema",
    "render_text",
    "required_fields",
    "seconds_from_ms",
    "shape",
]

# Keys whose integer values are byte counts: shown as "12.3 MiB" in the text rendering.
SIZE_KEYS = frozenset(
    {
        "size",
        "bytes",
        "free",
        "used",
        "capacity",
        "total_size",
        "total_uncompressed_size",
        "data_added",
        "data_added_packed",
        "total_bytes",
        "bytes_done",
        "bytes_restored",
        "bytes_skipped",
        "total_bytes_processed",
        "size_bytes",
        "stored_bytes",
        "added_bytes",
        "free_bytes",
        "used_bytes",
        "total_capacity_bytes",
        "source_bytes",
        "processed_bytes",
        "uncompressed_bytes",
    }
)


def iso_from_ms(value: float | None) -> str | None:
    """Epoch milliseconds (Zerobyte's usual time) -> ISO 8601 UTC with seconds precision."""
    if value is None:
        return None
    try:
        return datetime.fromtimestamp(value / 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    except (OverflowError, OSError, ValueError):
        return None


def iso(value: datetime | str | float | None) -> str | None:
    """Any Zerobyte time (epoch ms, ISO string, datetime) -> ISO 8601 UTC with seconds precision."""
    if value is None:
        return None
    if isinstance(value, int | float):
        return iso_from_ms(value)
    if isinstance(value, str):
        parsed = parse_time(value)
        return iso(parsed) if parsed is not None else value
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def mtime_seconds(value: str | None) -> int | None:
    """A snapshot file time from restic ("…T23:24:25.789069162Z") as epoch seconds rounded to the nearest
    second, as the mtimes in restic's tar dumps are (Go rounds), so a listing and a tar agree."""
    if not value:
        return None
    text = value.strip()
    head, dot, rest = text.partition(".")
    digits = "".join(itertools.takewhile(str.isdigit, rest)) if dot else ""
    parsed = parse_time(head + rest[len(digits) :] if dot else text)
    if parsed is None:
        return None
    seconds = math.floor(parsed.timestamp())
    return seconds + 1 if digits[:1] >= "5" else seconds


def iso_from_seconds(value: int | None) -> str | None:
    return iso_from_ms(value * 1000) if value is not None else None


def parse_time(value: str) -> datetime | None:
    """Parse an ISO time as restic/Zerobyte write it (nanoseconds, 'Z' suffix) into an aware datetime."""
    text = value.strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    # Python accepts at most microseconds: cut restic's nanoseconds.
    if "." in text:
        head, _, rest = text.partition(".")
        digits = "".join(c for c in rest if c.isdigit())
        tz = rest[len(digits) :]
        text = f"{head}.{digits[:6]}{tz}"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def seconds_from_ms(value: float | None) -> float | None:
    return None if value is None else round(value / 1000, 3)


def human_bytes(value: float | None) -> str | None:
    if value is None:
        return None
    n = float(value)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(n) < 1024 or unit == "TiB":
            return f"{int(n)} B" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} PiB"  # pragma: no cover


def drop_empty(value: Any, *, keep_top_level: bool = True, keep: Collection[str] | None = None) -> Any:
    """Recursively drop None, empty strings, empty lists and empty dicts from dicts.

    Top-level keys in ``keep`` (all of them when ``keep`` is None) keep their empty values: a required
    ``"items": []`` says "none" more clearly than silence, and the output schema requires it.
    """
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            v = drop_empty(v, keep_top_level=False)
            kept = keep_top_level and (keep is None or k in keep)
            if v is None or (not kept and (v == "" or v == [] or v == {})):
                continue
            out[k] = v
        return out
    if isinstance(value, list):
        return [drop_empty(v, keep_top_level=False) for v in value]
    return value


def required_fields(model: type[BaseModel]) -> frozenset[str]:
    """The keys (aliases) a model's answers always carry: its fields without a default."""
    return frozenset(
        (info.validation_alias if isinstance(info.validation_alias, str) else (info.alias or name))
        for name, info in model.model_fields.items()
        if info.is_required()
    )


def shape(result: BaseModel) -> dict[str, Any]:
    """A tool's answer as data: nulls and empty optional fields dropped, required fields always there."""
    data: dict[str, Any] = drop_empty(
        result.model_dump(mode="json", by_alias=True, exclude_none=True), keep=required_fields(type(result))
    )
    return data


def _humanise(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            k: (
                human_bytes(v)
                if k in SIZE_KEYS and isinstance(v, int | float) and not isinstance(v, bool)
                else _humanise(v)
            )
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_humanise(v) for v in value]
    return value


def render_text(data: Any) -> str:
    """The text an agent reads: compact JSON (no indentation), sizes in human form."""
    return json.dumps(_humanise(data), separators=(",", ":"), ensure_ascii=False, default=str)


def compact_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """Inline ``$ref``s, drop ``$defs`` and titles, collapse ``anyOf [X, null]`` to X (input schemas)."""
    defs: dict[str, Any] = dict(schema.get("$defs", {}))

    def walk(node: Any) -> Any:
        if isinstance(node, list):
            return [walk(n) for n in node]
        if not isinstance(node, dict):
            return node
        if "$ref" in node:
            target = defs.get(str(node["$ref"]).rsplit("/", 1)[-1], {})
            return walk({**target, **{k: v for k, v in node.items() if k != "$ref"}})
        if "anyOf" in node:
            options = [o for o in node["anyOf"] if not (isinstance(o, dict) and o.get("type") == "null")]
            if len(options) == 1:
                rest = {k: v for k, v in node.items() if k not in ("anyOf", "default")}
                if node.get("default") is not None:
                    rest["default"] = node["default"]
                return walk({**options[0], **rest})
        out: dict[str, Any] = {}
        for key, value in node.items():
            if key in ("title", "$defs") or (key == "default" and value is None):
                continue
            if key == "additionalProperties" and value is True:
                continue
            if key == "properties" and isinstance(value, dict):
                out[key] = {name: walk(sub) for name, sub in value.items()}
            else:
                out[key] = walk(value)
        return out

    result: dict[str, Any] = walk(schema)
    return result


def outline_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """An output schema that names the top-level fields (and which are always there), nothing more.

    Every result carries its full structured content, and most clients never show output schemas to
    the model, so spelling out types and nested shapes would only cost tools/list characters.
    """
    out: dict[str, Any] = {"type": "object", "properties": {name: {} for name in schema.get("properties", {})}}
    if schema.get("required"):
        out["required"] = list(schema["required"])
    return out


def outline_model(model: type[BaseModel]) -> dict[str, Any]:
    """``outline_schema`` of a model's JSON schema, read from its fields without generating that schema.

    Generating JSON schemas for every tool's output model was the largest part of tool registration, which
    every cold start pays; the outline needs only the names (aliases, as the schema uses) and which fields
    have no default. tests/test_tool_catalogue.py checks both ways agree for every tool.
    """
    properties: dict[str, Any] = {}
    required: list[str] = []
    for name, info in model.model_fields.items():
        key = info.validation_alias if isinstance(info.validation_alias, str) else (info.alias or name)
        properties[key] = {}
        if info.is_required():
            required.append(key)
    out: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        out["required"] = required
    return out


MISSING_LISTED = 20  # snapshots a mirror lacks, named in an answer; the rest are counted


def missing_line(s: MissingSnapshot) -> str:
    """One snapshot a mirror lacks, as get_mirror_status and sync_mirror show it: id, time, size."""
    return f"{s.short_id} {iso(s.time) or '?'} {human_bytes(s.size) or '?'}"
