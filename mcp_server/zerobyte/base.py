"""What every route group of the Zerobyte client shares: typed requests, answer parsing, named targets.

:class:`Routes` is the base of the route groups (volumes, repositories, snapshots, backup jobs, tasks,
system) that :class:`~.client.ZerobyteClient` combines. It sends through the client's
:class:`~.http.HttpCore` and parses each answer into a model of :mod:`.models`; an answer of another shape
is a :class:`ZerobyteProtocolError` naming the route. The ``on_*`` helpers check an id before it reaches
a URL and say how a 404 names the object ("Repository 'x'"), written once for every route that takes it.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, TypeAdapter, ValidationError

from .errors import InvalidArgument, Subject, ZerobyteProtocolError
from .failures import API_PREFIX, lost_answer
from .http import HttpCore
from .ids import check_destination_id, check_job_id, check_short_id, check_task_id
from .models import TaskStarted

__all__ = [
    "Routes",
    "on_destination",
    "on_job",
    "on_repository",
    "on_task",
    "on_volume",
    "page_params",
    "parse",
    "parse_list",
]

M = TypeVar("M", bound=BaseModel)


class Routes:
    """Base of the client's route groups: the request helpers they build their methods from."""

    http: HttpCore

    async def _get(
        self,
        path: str,
        model: type[M],
        *,
        params: Mapping[str, Any] | None = None,
        what: Subject | None = None,
        heavy: bool = False,
    ) -> M:
        return await self._send("GET", path, model, params=params, what=what, heavy=heavy)

    async def _get_list(
        self, path: str, model: type[M], *, params: Mapping[str, Any] | None = None, what: Subject | None = None
    ) -> list[M]:
        return parse_list(model, await self.http.request("GET", path, params=params, what=what), "GET", path)

    async def _send(
        self,
        method: str,
        path: str,
        model: type[M],
        *,
        body: Any = None,
        what: Subject | None = None,
        heavy: bool = False,
        params: Mapping[str, Any] | None = None,
    ) -> M:
        kwargs: dict[str, Any] = {"what": what, "heavy": heavy, "params": params}
        if body is not None:
            kwargs["json_body"] = body
        return parse(model, await self.http.request(method, path, **kwargs), method, path)

    async def _start(
        self, method: str, path: str, route: str, *, what: Subject, body: Any = None
    ) -> TaskStarted | None:
        """Start work Zerobyte runs as a task; ``None`` from a server that answers without one.

        ≤ v0.41 answers backup/forget/sync with {success:true}; v0.40 runs doctor, snapshot delete and
        tag before answering {message}. ``route`` names the route in a shape error ("/backups/{id}/run").
        """
        kwargs: dict[str, Any] = {"what": what}
        if body is not None:
            kwargs["json_body"] = body
        data = await self.http.request(method, path, **kwargs)
        if isinstance(data, dict) and "taskId" not in data and (data.get("success") is True or "message" in data):
            return None
        return parse(TaskStarted, data, method, route)


# --- targets: a checked id and how a message names its object ------------------------------------------


def on_volume(volume_id: str) -> tuple[str, Subject]:
    vid = check_short_id("volume_id", volume_id)
    return vid, Subject("volume", f"Volume {vid!r}")


def on_repository(repository_id: str) -> tuple[str, Subject]:
    rid = check_short_id("repository_id", repository_id)
    return rid, Subject("repository", f"Repository {rid!r}")


def on_job(job_id: str | int) -> tuple[str, Subject]:
    jid = check_job_id("job_id", job_id)
    return jid, Subject("backup_job", f"Backup job {jid!r}")


def on_destination(destination_id: int | str) -> tuple[int, Subject]:
    did = check_destination_id("destination_id", destination_id)
    return did, Subject("notification_destination", f"Notification destination {did}")


def on_task(task_id: str) -> tuple[str, Subject]:
    tid = check_task_id("task_id", task_id)
    return tid, Subject("task", f"Task {tid}")


# --- answers ---------------------------------------------------------------------------------------------


def parse(model: type[M], data: Any, method: str, path: str) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise _shape_error(exc, method, path) from None


def parse_list(model: type[M], data: Any, method: str, path: str) -> list[M]:
    try:
        items: list[M] = _list_adapter(model).validate_python(data)
    except ValidationError as exc:
        raise _shape_error(exc, method, path) from None
    return items


@functools.cache
def _list_adapter(model: type[BaseModel]) -> TypeAdapter[list[Any]]:
    # Building an adapter generates its validator (~1 ms, most of a list call's own cost): once per model.
    return TypeAdapter(list[model])  # type: ignore[valid-type]


def _shape_error(exc: ValidationError, method: str, path: str) -> ZerobyteProtocolError:
    errors = exc.errors()
    loc = ".".join(str(p) for p in errors[0]["loc"]) if errors else "body"
    msg = errors[0]["msg"] if errors else "invalid"
    return ZerobyteProtocolError(
        f"Zerobyte answered {method} {API_PREFIX}{path} with data of an unexpected shape "
        f"({loc}: {msg}; {exc.error_count()} problem(s)): this Zerobyte version may not be "
        "supported, or a proxy altered the answer." + lost_answer(method)
    )


# --- paging ---------------------------------------------------------------------------------------------


def page_params(offset: int | None, limit: int | None, cap: int) -> dict[str, Any]:
    params: dict[str, Any] = {}
    if offset is not None:
        params["offset"] = _nonneg("offset", offset)
    if limit is not None:
        params["limit"] = _limit(limit, cap)
    return params


def _nonneg(name: str, value: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise InvalidArgument(name, "must be a non-negative integer")
    return value


def _limit(value: int, cap: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise InvalidArgument("limit", "must be a positive integer")
    return min(value, cap)
