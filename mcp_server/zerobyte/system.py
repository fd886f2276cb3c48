"""The client's system routes: version, update check, instance settings, and what this Zerobyte supports.

Version strings are unreliable (a build may report none), so :meth:`SystemRoutes.detect_capabilities`
probes the routes that differ between v0.40, v0.41 and v0.42+ and records the answer as
:class:`Capabilities`, which the tools consult before choosing how to run, follow or stop work.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .base import Routes
from .errors import NotFound
from .models import SystemInfo, SystemUpdates

__all__ = ["Capabilities", "SystemRoutes"]


@dataclass
class Capabilities:
    """What this Zerobyte supports, detected by route (version strings are unreliable)."""

    tasks_api: bool = True
    task_history: bool = True
    legacy_backup_control: bool = False  # v0.40/v0.41: run answers {success:true}; /stop and /progress exist
    notes: list[str] = field(default_factory=list)


class SystemRoutes(Routes):
    capabilities: Capabilities | None

    async def system_info(self) -> SystemInfo:
        return await self._get("/system/info", SystemInfo)

    async def system_updates(self) -> SystemUpdates:
        return await self._get("/system/updates", SystemUpdates)

    async def registration_status(self) -> bool:
        return await self._flag("/system/registration-status", "enabled")

    async def password_login_status(self) -> bool:
        """True when password login is disabled."""
        return await self._flag("/system/password-login-status", "disabled")

    async def dev_panel_enabled(self) -> bool:
        return await self._flag("/system/dev-panel", "enabled")

    async def auth_status(self) -> bool:
        """Public route: whether the instance has users (reachability without a key)."""
        return await self._flag("/auth/status", "hasUsers")

    async def _flag(self, path: str, key: str) -> bool:
        data = await self.http.request("GET", path)
        return bool(isinstance(data, dict) and data.get(key))

    async def detect_capabilities(self) -> Capabilities:
        """Probe routes that differ between v0.40/v0.41 and v0.42+ (tasks API, task history).

        One quick database read (two before v0.42); not /system/updates, which asks GitHub first (up to 5 s, or
        never on a server without internet access) and would hold up the first tools/list.
        """
        caps = Capabilities()
        try:
            await self.http.request("GET", "/tasks/history", params={"page": 1})
        except NotFound:
            # v0.41 has no history route but routes the path to /tasks/{taskId}: 404 "Task not found".
            caps.task_history = False
            caps.legacy_backup_control = True
            caps.notes.append("no task history (Zerobyte ≤ v0.41): history tools are not available")
        else:
            self.capabilities = caps  # the history came with v0.42, whose tasks API it is part of
            return caps
        try:
            await self.http.request("GET", "/tasks")
        except NotFound as exc:
            if not exc.route_missing:
                raise
            caps.tasks_api = False
            caps.notes.append("no tasks API (Zerobyte v0.40): backups are followed through the job's status")
        self.capabilities = caps
        return caps
