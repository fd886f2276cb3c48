"""Real Zerobyte servers for tests and benchmarks, started with ``../shared/zerobyte-server/zb-server``.

The real server is the judge of what our MCP server says: stories drive our tools against it and then
check its state with direct ``/api/v1`` calls (``RealZerobyte.get`` and friends), never only our answer.
A copy of the shared folder whose symlinks were flattened into text files on the way here (Bun then fails
to load ``tslib``) is repaired into a private cache copy before use; the shared folder itself is not touched.
"""

from __future__ import annotations

import hashlib
import http.cookiejar
import json
import os
import shutil
import subprocess
import tempfile
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx


def _server_home() -> Path:
    """``../shared/zerobyte-server`` beside the clone; from a git worktree nested deeper, the nearest ancestor's."""
    repo = Path(__file__).resolve().parents[2]
    for folder in repo.parents:
        candidate = folder / "shared" / "zerobyte-server"
        if candidate.is_dir():
            return candidate
    return repo.parent / "shared" / "zerobyte-server"


SERVER_HOME = _server_home()
VERSIONS = {"v0.42": "v0.42.0-beta.1", "v0.41": "v0.41.0"}
ABSENT_REASON = f"{SERVER_HOME} is absent: the real-server stories need the real Zerobyte builds and zb-server"


def available() -> bool:
    return (SERVER_HOME / "zb-server").is_file()


def _flattened_links(home: Path) -> list[tuple[Path, str]]:
    """Small regular files under node_modules whose whole text names a sibling folder: lost symlinks."""
    found: list[tuple[Path, str]] = []
    for modules in home.glob("*/app/server/node_modules"):
        for entry in modules.iterdir():
            if entry.is_symlink() or not entry.is_file() or entry.stat().st_size > 300:
                continue
            target = entry.read_text(errors="replace").strip()
            if target and "\n" not in target and (modules / target).is_dir():
                found.append((entry, target))
    return found


def usable_home() -> Path:
    """The zb-server folder to run: the shared one, or a repaired private copy when its symlinks were lost."""
    broken = _flattened_links(SERVER_HOME)
    if not broken:
        return SERVER_HOME
    digest = hashlib.sha256("|".join(f"{p}:{t}" for p, t in broken).encode()).hexdigest()[:12]
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "zerobyte-mcp-tests"
    copy = cache / f"zerobyte-server-{digest}"
    if (copy / ".repaired").is_file():
        return copy
    cache.mkdir(parents=True, exist_ok=True)
    partial = Path(tempfile.mkdtemp(dir=cache, prefix="partial-"))
    shutil.copytree(SERVER_HOME, partial / "home", symlinks=True)
    for path, target in broken:
        mirrored = partial / "home" / path.relative_to(SERVER_HOME)
        mirrored.parent.chmod(0o755)
        mirrored.unlink()
        mirrored.symlink_to(target)
    (partial / "home" / ".repaired").write_text("symlinks restored\n")
    try:
        (partial / "home").rename(copy)
    except OSError:  # another process repaired it first
        shutil.rmtree(partial, ignore_errors=True)
    shutil.rmtree(partial, ignore_errors=True)
    return copy


@dataclass
class RealZerobyte:
    """One running real Zerobyte on loopback and the means to check its state directly."""

    url: str
    api_key: str
    admin_user: str
    admin_password: str
    state: Path
    version: str
    home: Path
    _http: httpx.Client | None = field(default=None, repr=False)

    @property
    def http(self) -> httpx.Client:
        if self._http is None:
            self._http = httpx.Client(base_url=f"{self.url}/api/v1", headers={"x-api-key": self.api_key}, timeout=120.0)
        return self._http

    @property
    def legacy(self) -> bool:
        return self.version == VERSIONS["v0.41"]

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return self.http.request(method, path, **kwargs)

    def get(self, path: str, **params: Any) -> Any:
        response = self.http.get(path, params=params or None)
        response.raise_for_status()
        return response.json()

    def post(self, path: str, body: Any = None) -> Any:
        response = self.http.post(path, json=body)
        response.raise_for_status()
        return response.json() if response.content else None

    def snapshots(self, repository_id: str, job_id: str | None = None) -> list[dict[str, Any]]:
        params = {"backupId": job_id} if job_id else {}
        result: list[dict[str, Any]] = self.get(f"/repositories/{repository_id}/snapshots", **params)
        return result

    def job(self, job_id: str) -> dict[str, Any]:
        result: dict[str, Any] = self.get(f"/backups/{job_id}")
        return result

    def browser_session(self) -> urllib.request.OpenerDirector:
        """An admin cookie session (for what API keys may not do: making and revoking keys)."""
        jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        body = json.dumps({"username": self.admin_user, "password": self.admin_password}).encode()
        request = urllib.request.Request(
            f"{self.url}/api/auth/sign-in/username",
            body,
            method="POST",
            headers={"content-type": "application/json", "origin": self.url},
        )
        with opener.open(request, timeout=30):
            pass
        return opener

    def session_call(self, opener: urllib.request.OpenerDirector, method: str, path: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            f"{self.url}{path}",
            data,
            method=method,
            headers={"content-type": "application/json", "origin": self.url},
        )
        with opener.open(request, timeout=30) as response:
            raw = response.read()
        return json.loads(raw) if raw else None

    def create_api_key(self, name: str) -> dict[str, Any]:
        """A new API key (``key``, ``id``...) made through the admin's browser session."""
        opener = self.browser_session()
        result: dict[str, Any] = self.session_call(
            opener, "POST", "/api/v1/auth/api-keys", {"name": name, "password": self.admin_password}
        )
        return result

    def close(self) -> None:
        if self._http is not None:
            self._http.close()
            self._http = None

    def stop(self) -> None:
        self.close()
        subprocess.run([str(self.home / "zb-server"), "stop", str(self.state)], check=False, capture_output=True)


def _read_env(path: Path) -> dict[str, str]:
    values: dict[str, str] = {}
    for line in path.read_text().splitlines():
        name, sep, value = line.partition("=")
        if sep:
            values[name.strip()] = value.strip()
    return values


def start(version: str = "v0.42", state: Path | None = None) -> RealZerobyte:
    """Start a fresh real Zerobyte of ``version`` ("v0.42" or "v0.41") with its state in ``state``."""
    home = usable_home()
    build = VERSIONS.get(version, version)
    state = state or Path(tempfile.mkdtemp(prefix=f"zb-{version}-"))
    state.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "ZB_VERSION": build}
    done = subprocess.run(
        [str(home / "zb-server"), "start", str(state)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if done.returncode != 0:
        log = state / "zerobyte.log"
        tail = log.read_text(errors="replace")[-2000:] if log.is_file() else ""
        raise RuntimeError(f"zb-server start failed ({done.returncode}): {done.stderr[-2000:]}\n{tail}")
    values = _read_env(state / "zerobyte.env")
    return RealZerobyte(
        url=values["ZEROBYTE_URL"],
        api_key=values["ZEROBYTE_API_KEY"],
        admin_user=values["ZEROBYTE_ADMIN_USER"],
        admin_password=values["ZEROBYTE_ADMIN_PASSWORD"],
        state=state,
        version=build,
        home=home,
    )
