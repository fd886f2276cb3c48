"""restic's machine-readable errors, as the sentence a person reads.

Zerobyte passes restic's JSON error line through as a job's ``lastBackupError``, a task's ``error`` and
the task history's ``message``: ``{"message_type":"exit_error","code":12,"message":"Fatal: wrong password
or no key found"}``. Read as ``restic: wrong password or no key found (exit 12)``, an agent can quote it
and the next-step rules can match it.
"""

from __future__ import annotations

import json
import re
from typing import Annotated, Any

from pydantic import AfterValidator

__all__ = ["ResticText", "plain_error"]

_OBJECT = re.compile(r"\{[^{}]*\"message_type\"[^{}]*\}")


def _sentence(entry: dict[str, Any]) -> str | None:
    if entry.get("message_type") not in ("exit_error", "error"):
        return None
    message = str(entry.get("message") or (entry.get("error") or {}).get("message") or "").strip()
    message = re.sub(r"^Fatal:\s*", "", message)
    # restic's multi-line hints ("Is there a repository at the following location?\n<path>") read as one line.
    lines = [line.strip() for line in message.splitlines() if line.strip()]
    text = " ".join(line if line.endswith(("?", ".", ":")) else line + ";" for line in lines[:-1])
    text = f"{text} {lines[-1]}".strip() if lines else "failed"
    code = entry.get("code")
    return f"restic: {text}" + (f" (exit {code})" if isinstance(code, int) else "")


def plain_error(text: str | None) -> str | None:
    """Every restic JSON error object in ``text`` replaced by its sentence; other text unchanged."""
    if not text or "message_type" not in text:
        return text

    def replace(match: re.Match[str]) -> str:
        try:
            entry = json.loads(match.group(0))
        except ValueError:
            return match.group(0)
        return (_sentence(entry) if isinstance(entry, dict) else None) or match.group(0)

    return _OBJECT.sub(replace, text)


ResticText = Annotated[str | None, AfterValidator(plain_error)]
