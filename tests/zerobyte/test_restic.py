"""restic's JSON error lines read as sentences (shapes observed on a real Zerobyte v0.42 beta)."""

from __future__ import annotations

import json

from mcp_server.zerobyte.models import BackupJob, TaskHistoryItem
from mcp_server.zerobyte.restic import plain_error

WRONG_PASSWORD = json.dumps(
    {"message_type": "exit_error", "code": 12, "message": "Fatal: wrong password or no key found"}
)
NO_REPOSITORY = json.dumps(
    {
        "message_type": "exit_error",
        "code": 10,
        "message": "Fatal: repository does not exist: unable to open config file: stat /srv/r/config: no such file "
        "or directory\nIs there a repository at the following location?\n/srv/r",
    }
)


def test_an_exit_error_reads_as_restic_message_and_exit_code() -> None:
    assert plain_error(WRONG_PASSWORD) == "restic: wrong password or no key found (exit 12)"
    assert plain_error(NO_REPOSITORY) == (
        "restic: repository does not exist: unable to open config file: stat /srv/r/config: no such file or "
        "directory; Is there a repository at the following location? /srv/r (exit 10)"
    )


def test_text_around_the_json_and_plain_messages_stay_as_they_are() -> None:
    assert plain_error(f"Backup failed: {WRONG_PASSWORD}") == (
        "Backup failed: restic: wrong password or no key found (exit 12)"
    )
    assert plain_error("Volume is not mounted") == "Volume is not mounted"
    assert plain_error(None) is None
    assert plain_error('{"message_type": "summary"}') == '{"message_type": "summary"}'


def test_models_carry_the_sentence_wherever_zerobyte_passes_restic_json_through() -> None:
    job = BackupJob.model_validate({"id": 1, "shortId": "dl2FvHvs", "name": "j", "lastBackupError": WRONG_PASSWORD})
    item = TaskHistoryItem.model_validate({"id": "t", "kind": "backup", "status": "failed", "message": NO_REPOSITORY})
    assert job.lastBackupError == "restic: wrong password or no key found (exit 12)"
    assert item.message is not None and item.message.startswith("restic: repository does not exist")
