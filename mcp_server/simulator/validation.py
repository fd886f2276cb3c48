"""A tiny zod-alike: validates request bodies/queries and reports issues in zod v4's exact shape.

Exists because Zerobyte answers a failed validator with ``400 {"success":false,"error":[issues],
"data":<input>}`` where each issue carries zod's ``code``/``path``/``message`` (and ``expected``,
``values``, ``minimum``...). Clients parse these, so the simulator reproduces them, not just the 400.
This module also declares the body schemas of the routes (volume/repository/notification configs...).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from ._util import Json

MISSING: Any = object()


def received_type(value: Any) -> str:
    if value is MISSING:
        return "undefined"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _type_issue(expected: str, value: Any, path: list[str | int]) -> Json:
    return {
        "expected": expected,
        "code": "invalid_type",
        "path": path,
        "message": f"Invalid input: expected {expected}, received {received_type(value)}",
    }


# zod v4's sizing: a string's and an array's bounds count characters and items ("to have"), a number's its value
_SIZE_UNITS = {"string": "characters", "array": "items"}


def _num(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else str(v)


def bound_issue(
    code: Literal["too_small", "too_big"], origin: str, bound: float, path: list[str | int], *, inclusive: bool = True
) -> Json:
    """zod's ``too_small``/``too_big`` issue with its English message, e.g. "Too small: expected number to be >0"."""
    small = code == "too_small"
    op = (">" if small else "<") + ("=" if inclusive else "")
    unit = _SIZE_UNITS.get(origin)
    expected = f"to have {op}{_num(bound)} {unit}" if unit else f"to be {op}{_num(bound)}"
    return {
        "origin": origin,
        "code": code,
        "minimum" if small else "maximum": bound,
        "inclusive": inclusive,
        "path": path,
        "message": f"{'Too small' if small else 'Too big'}: expected {origin} {expected}",
    }


class Schema:
    """Base schema. ``parse`` returns the cleaned value (defaults applied, unknown keys stripped)."""

    def parse(self, value: Any, path: list[str | int], issues: list[Json]) -> Any:  # pragma: no cover
        raise NotImplementedError


@dataclass
class Str(Schema):
    min_len: int | None = None
    max_len: int | None = None

    def parse(self, value: Any, path: list[str | int], issues: list[Json]) -> Any:
        if not isinstance(value, str):
            issues.append(_type_issue("string", value, path))
            return value
        if self.min_len is not None and len(value) < self.min_len:
            issues.append(bound_issue("too_small", "string", self.min_len, path))
        if self.max_len is not None and len(value) > self.max_len:
            issues.append(bound_issue("too_big", "string", self.max_len, path))
        return value


@dataclass
class Num(Schema):
    integer: bool = False
    minimum: float | None = None
    maximum: float | None = None
    exclusive_min: bool = False

    def parse(self, value: Any, path: list[str | int], issues: list[Json]) -> Any:
        if isinstance(value, bool) or not isinstance(value, int | float):
            issues.append(_type_issue("int" if self.integer else "number", value, path))
            return value
        if self.integer and not float(value).is_integer():
            issues.append(_type_issue("int", value, path) | {"received": "number"})
            return value
        if self.minimum is not None and (value <= self.minimum if self.exclusive_min else value < self.minimum):
            issues.append(bound_issue("too_small", "number", self.minimum, path, inclusive=not self.exclusive_min))
        if self.maximum is not None and value > self.maximum:
            issues.append(bound_issue("too_big", "number", self.maximum, path))
        return value


class Bool(Schema):
    def parse(self, value: Any, path: list[str | int], issues: list[Json]) -> Any:
        if not isinstance(value, bool):
            issues.append(_type_issue("boolean", value, path))
        return value


@dataclass
class Enum(Schema):
    values: tuple[Any, ...]

    def parse(self, value: Any, path: list[str | int], issues: list[Json]) -> Any:
        if any(type(v) is type(value) and v == value for v in self.values):
            return value
        options = "|".join(json.dumps(v) for v in self.values)
        issues.append(
            {
                "code": "invalid_value",
                "values": list(self.values),
                "path": path,
                "message": f"Invalid option: expected one of {options}"
                if len(self.values) > 1
                else f"Invalid input: expected {options}",
            }
        )
        return value


class AnyValue(Schema):
    def parse(self, value: Any, path: list[str | int], issues: list[Json]) -> Any:
        return value


@dataclass
class Arr(Schema):
    item: Schema
    min_items: int | None = None

    def parse(self, value: Any, path: list[str | int], issues: list[Json]) -> Any:
        if not isinstance(value, list):
            issues.append(_type_issue("array", value, path))
            return value
        if self.min_items is not None and len(value) < self.min_items:
            issues.append(bound_issue("too_small", "array", self.min_items, path))
        return [self.item.parse(v, [*path, i], issues) for i, v in enumerate(value)]


@dataclass
class Union(Schema):
    """A plain union: the first option that parses without issues wins."""

    options: tuple[Schema, ...]

    def parse(self, value: Any, path: list[str | int], issues: list[Json]) -> Any:
        for opt in self.options:
            trial: list[Json] = []
            out = opt.parse(value, path, trial)
            if not trial:
                return out
        issues.append({"code": "invalid_union", "errors": [], "path": path, "message": "Invalid input"})
        return value


@dataclass
class Nullable(Schema):
    inner: Schema

    def parse(self, value: Any, path: list[str | int], issues: list[Json]) -> Any:
        if value is None:
            return None
        return self.inner.parse(value, path, issues)


@dataclass
class F:
    """A field of an object schema."""

    schema: Schema
    optional: bool = False
    default: Any = MISSING


@dataclass
class Obj(Schema):
    fields: Mapping[str, F] = field(default_factory=dict)

    def parse(self, value: Any, path: list[str | int], issues: list[Json]) -> Any:
        if not isinstance(value, dict):
            issues.append(_type_issue("object", value, path))
            return value
        out: Json = {}
        for key, spec in self.fields.items():
            raw = value.get(key, MISSING)
            if raw is MISSING:
                if spec.default is not MISSING:
                    out[key] = spec.default() if callable(spec.default) else spec.default
                    continue
                if spec.optional:
                    continue
            out[key] = spec.schema.parse(raw, [*path, key], issues)
        return out


@dataclass
class Tagged(Schema):
    """zod's discriminated union."""

    discriminator: str
    options: Mapping[str, Obj]

    def parse(self, value: Any, path: list[str | int], issues: list[Json]) -> Any:
        if not isinstance(value, dict):
            issues.append(_type_issue("object", value, path))
            return value
        tag = value.get(self.discriminator, MISSING)
        option = self.options.get(tag) if isinstance(tag, str) else None
        if option is None:
            issues.append(
                {
                    "code": "invalid_union",
                    "errors": [],
                    "note": "No matching discriminator",
                    "discriminator": self.discriminator,
                    "path": [*path, self.discriminator],
                    "message": "Invalid input",
                }
            )
            return value
        return option.parse(value, path, issues)


def validate(schema: Schema, value: Any) -> tuple[Any, list[Json]]:
    issues: list[Json] = []
    out = schema.parse(value, [], issues)
    return out, issues


# ------------------------------------------------------------------------------------------------
# Route schemas
# ------------------------------------------------------------------------------------------------

S = Str()
NONEMPTY = Str(min_len=1)
PORT = Union((Num(), Str()))
STRINGS = Arr(Str())


def _obj(tag_key: str, tag: str, **fields: F) -> Obj:
    return Obj({tag_key: F(Enum((tag,))), **fields})


VOLUME_CONFIG = Tagged(
    "backend",
    {
        "nfs": _obj(
            "backend",
            "nfs",
            server=F(NONEMPTY),
            exportPath=F(NONEMPTY),
            port=F(PORT, default=2049),
            version=F(Enum(("3", "4", "4.1"))),
            readOnly=F(Bool(), optional=True),
        ),
        "smb": _obj(
            "backend",
            "smb",
            server=F(NONEMPTY),
            share=F(NONEMPTY),
            username=F(S, optional=True),
            password=F(S, optional=True),
            guest=F(Bool(), optional=True),
            mapToContainerUidGid=F(Bool(), default=False),
            vers=F(Enum(("1.0", "2.0", "2.1", "3.0", "auto")), default="auto"),
            domain=F(S, optional=True),
            port=F(PORT, default=445),
            readOnly=F(Bool(), optional=True),
        ),
        "directory": _obj("backend", "directory", path=F(S), readOnly=F(Bool(), optional=True)),
        "webdav": _obj(
            "backend",
            "webdav",
            server=F(NONEMPTY),
            path=F(NONEMPTY),
            username=F(S, optional=True),
            password=F(S, optional=True),
            port=F(PORT, default=80),
            readOnly=F(Bool(), optional=True),
            ssl=F(Bool(), optional=True),
        ),
        "rclone": _obj("backend", "rclone", remote=F(NONEMPTY), path=F(S), readOnly=F(Bool(), optional=True)),
        "sftp": _obj(
            "backend",
            "sftp",
            host=F(NONEMPTY),
            port=F(PORT, default=22),
            username=F(NONEMPTY),
            password=F(S, optional=True),
            privateKey=F(S, optional=True),
            path=F(S),
            readOnly=F(Bool(), optional=True),
            skipHostKeyCheck=F(Bool(), default=False),
            knownHosts=F(S, optional=True),
            allowLegacySshRsa=F(Bool(), default=False),
            allowUnsafeSymlinkTargets=F(Bool(), default=False),
        ),
    },
)

_LIMIT = Obj(
    {
        "enabled": F(Bool(), default=False),
        "value": F(Num(minimum=0, exclusive_min=True), default=1),
        "unit": F(Enum(("Kbps", "Mbps", "Gbps")), default="Mbps"),
    }
)
_REPO_COMMON = {
    "isExistingRepository": F(Bool(), optional=True),
    "customPassword": F(S, optional=True),
    "cacert": F(S, optional=True),
    "insecureTls": F(Bool(), optional=True),
    "uploadLimit": F(_LIMIT, optional=True),
    "downloadLimit": F(_LIMIT, optional=True),
}


def _repo(tag: str, **fields: F) -> Obj:
    return Obj({"backend": F(Enum((tag,))), **fields, **_REPO_COMMON})


_S3 = {
    "endpoint": F(NONEMPTY),
    "bucket": F(NONEMPTY),
    "accessKeyId": F(NONEMPTY),
    "secretAccessKey": F(NONEMPTY),
}
REPOSITORY_CONFIG = Tagged(
    "backend",
    {
        "s3": _repo("s3", **_S3),
        "r2": _repo("r2", **_S3),
        "local": _repo("local", path=F(NONEMPTY)),
        "gcs": _repo("gcs", bucket=F(NONEMPTY), projectId=F(NONEMPTY), credentialsJson=F(NONEMPTY)),
        "azure": _repo(
            "azure",
            container=F(NONEMPTY),
            accountName=F(NONEMPTY),
            accountKey=F(NONEMPTY),
            endpointSuffix=F(S, optional=True),
        ),
        "rclone": _repo("rclone", remote=F(NONEMPTY), path=F(NONEMPTY)),
        "rest": _repo(
            "rest",
            url=F(NONEMPTY),
            username=F(S, optional=True),
            password=F(S, optional=True),
            path=F(S, optional=True),
        ),
        "sftp": _repo(
            "sftp",
            host=F(NONEMPTY),
            port=F(PORT, default=22),
            user=F(NONEMPTY),
            path=F(NONEMPTY),
            privateKey=F(NONEMPTY),
            skipHostKeyCheck=F(Bool(), default=False),
            knownHosts=F(S, optional=True),
            allowLegacySshRsa=F(Bool(), default=False),
        ),
    },
)

NOTIFICATION_CONFIG = Tagged(
    "type",
    {
        "email": _obj(
            "type",
            "email",
            smtpHost=F(NONEMPTY),
            smtpPort=F(Num(integer=True, minimum=1, maximum=65535)),
            username=F(S, optional=True),
            password=F(S, optional=True),
            **{"from": F(NONEMPTY)},
            fromName=F(S, optional=True),
            to=F(STRINGS),
            useTLS=F(Bool()),
        ),
        "slack": _obj(
            "type", "slack", webhookUrl=F(NONEMPTY), username=F(S, optional=True), iconEmoji=F(S, optional=True)
        ),
        "discord": _obj(
            "type",
            "discord",
            webhookUrl=F(NONEMPTY),
            username=F(S, optional=True),
            avatarUrl=F(S, optional=True),
            threadId=F(S, optional=True),
        ),
        "gotify": _obj(
            "type",
            "gotify",
            serverUrl=F(NONEMPTY),
            token=F(NONEMPTY),
            path=F(S, optional=True),
            priority=F(Num(minimum=0, maximum=10)),
        ),
        "ntfy": _obj(
            "type",
            "ntfy",
            serverUrl=F(S, optional=True),
            topic=F(NONEMPTY),
            priority=F(Enum(("max", "high", "default", "low", "min"))),
            username=F(S, optional=True),
            password=F(S, optional=True),
            accessToken=F(S, optional=True),
        ),
        "pushover": _obj(
            "type",
            "pushover",
            userKey=F(NONEMPTY),
            apiToken=F(NONEMPTY),
            devices=F(S, optional=True),
            priority=F(Enum((-1, 0, 1))),
        ),
        "telegram": _obj("type", "telegram", botToken=F(NONEMPTY), chatId=F(NONEMPTY), threadId=F(S, optional=True)),
        "generic": _obj(
            "type",
            "generic",
            url=F(NONEMPTY),
            method=F(Enum(("GET", "POST"))),
            contentType=F(S, optional=True),
            headers=F(STRINGS, optional=True),
            useJson=F(Bool(), optional=True),
            titleKey=F(S, optional=True),
            messageKey=F(S, optional=True),
        ),
        "custom": _obj("type", "custom", shoutrrrUrl=F(NONEMPTY)),
    },
)

COMPRESSION = Enum(("off", "auto", "max"))

VOLUME_CREATE = Obj({"name": F(S), "config": F(VOLUME_CONFIG)})
VOLUME_UPDATE = Obj(
    {"name": F(S, optional=True), "autoRemount": F(Bool(), optional=True), "config": F(VOLUME_CONFIG, optional=True)}
)
TEST_CONNECTION = Obj({"config": F(VOLUME_CONFIG)})
REPOSITORY_CREATE = Obj(
    {"name": F(S), "compressionMode": F(COMPRESSION, optional=True), "config": F(REPOSITORY_CONFIG)}
)
REPOSITORY_UPDATE = Obj(
    {
        "name": F(S, optional=True),
        "compressionMode": F(COMPRESSION, optional=True),
        "config": F(REPOSITORY_CONFIG, optional=True),
    }
)
RESTORE = Obj(
    {
        "snapshotId": F(S),
        "include": F(STRINGS, optional=True),
        "selectedItemKind": F(Enum(("file", "dir")), optional=True),
        "exclude": F(STRINGS, optional=True),
        "excludeXattr": F(STRINGS, optional=True),
        "delete": F(Bool(), optional=True),
        "targetPath": F(S, optional=True),
        "targetAgentId": F(S, optional=True),
        "overwrite": F(Enum(("always", "if-changed", "if-newer", "never")), optional=True),
    }
)
SNAPSHOT_IDS = Obj({"snapshotIds": F(Arr(S, min_items=1))})
TAG = Obj(
    {
        "snapshotIds": F(Arr(S, min_items=1)),
        "add": F(STRINGS, optional=True),
        "remove": F(STRINGS, optional=True),
        "set": F(STRINGS, optional=True),
    }
)

RETENTION = Obj(
    {
        "keepLast": F(Num(), optional=True),
        "keepHourly": F(Num(), optional=True),
        "keepDaily": F(Num(), optional=True),
        "keepWeekly": F(Num(), optional=True),
        "keepMonthly": F(Num(), optional=True),
        "keepYearly": F(Num(), optional=True),
        "keepWithinDuration": F(S, optional=True),
    }
)
HOOK = Obj(
    {
        "url": F(NONEMPTY),
        "headers": F(STRINGS, optional=True),
        "body": F(S, optional=True),
        "insecureTls": F(Bool(), optional=True),
    }
)
WEBHOOKS = Nullable(Obj({"pre": F(Nullable(HOOK)), "post": F(Nullable(HOOK))}))


def _schedule_fields(update: bool) -> dict[str, F]:
    return {
        "name": F(Str(min_len=1, max_len=128), optional=update),
        "volumeId": F(Union((Num(), S)), optional=update),
        "repositoryId": F(S),
        "enabled": F(Bool(), optional=update),
        "cronExpression": F(S),
        "retentionPolicy": F(RETENTION, optional=True),
        "excludePatterns": F(STRINGS, optional=True),
        "excludeIfPresent": F(STRINGS, optional=True),
        "includePaths": F(STRINGS, optional=True),
        "includePatterns": F(STRINGS, optional=True),
        "oneFileSystem": F(Bool(), optional=True),
        "tags": F(STRINGS, optional=True),
        "customResticParams": F(STRINGS, optional=True),
        "compressionMode": F(Nullable(COMPRESSION), optional=True),
        "backupWebhooks": F(WEBHOOKS, optional=True),
        "maxRetries": F(Num(integer=True, minimum=0, maximum=32), default=2),
        "retryDelay": F(Num(integer=True, minimum=1, maximum=1440), default=15),
    }


SCHEDULE_CREATE = Obj(_schedule_fields(update=False))
SCHEDULE_UPDATE = Obj(_schedule_fields(update=True))
ASSIGNMENTS = Obj(
    {
        "assignments": F(
            Arr(
                Obj(
                    {
                        "destinationId": F(Num()),
                        "notifyOnStart": F(Bool()),
                        "notifyOnSuccess": F(Bool()),
                        "notifyOnWarning": F(Bool()),
                        "notifyOnFailure": F(Bool()),
                    }
                )
            )
        )
    }
)
MIRRORS = Obj({"mirrors": F(Arr(Obj({"repositoryId": F(S), "enabled": F(Bool())})))})
MIRROR_SYNC = Obj({"snapshotIds": F(STRINGS, optional=True)})
REORDER = Obj({"scheduleShortIds": F(STRINGS)})
DESTINATION_CREATE = Obj({"name": F(S), "config": F(NOTIFICATION_CONFIG)})
DESTINATION_UPDATE = Obj(
    {"name": F(S, optional=True), "enabled": F(Bool(), optional=True), "config": F(NOTIFICATION_CONFIG, optional=True)}
)

TASK_KINDS = ("backup", "restore", "deleteSnapshots", "tagSnapshots", "doctor", "mirrorSync", "forget")
HISTORY_OUTCOMES = ("running", "success", "warning", "error", "cancelled", "stale")
