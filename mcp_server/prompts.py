"""Prompts for the flows self-hosters ask for most: why did it fail, restore as of a date, morning report, new job.

Each prompt is a short runbook for the agent: which tools to call in which order, what to check in
their answers, and where to stop and ask the user. They encode the safe habits Zerobyte's own docs
recommend (restore to a staging folder first, never overwrite; 3-2-1 with an offsite mirror).
"""

from __future__ import annotations

from typing import Annotated, Any

from mcp.server import MCPServer
from pydantic import Field

__all__ = ["PROMPTS", "register_prompts"]

PROMPTS = (
    "diagnose_failed_backup",
    "restore_file_as_of",
    "morning_health_report",
    "prove_restorable",
    "plan_backup_job",
)


def diagnose_failed_backup_text(backup_job: str | None = None) -> str:
    which = f"the backup job {backup_job!r}" if backup_job else "the failing backup jobs"
    find = (
        f"1. Call list_backup_jobs and find {backup_job!r} (by name or short id); note its volume, repository, "
        "last_status and last_error."
        if backup_job
        else "1. Call backup_health. Work through every job whose state is failing, warning or stale, worst first."
    )
    return f"""Diagnose why {which} failed and say how to fix it.

{find}
2. Call task_history with kind=backup and outcome=error (then outcome=warning) to get the exact message,
   when it happened and whether it repeats. Open the newest failed run with get_task for the full error,
   exit code and warnings.
3. Check the two ends of the job:
   - the volume (list_volumes): status must be 'mounted'; read last_error if not;
   - the repository (list_repositories): status 'error' or a lock message means the repository needs care.
4. Match the message to a cause (backup_health's next_step does this): "unable to create lock"/"already
   locked" = stale lock (unlock_repository only when no task runs: check list_active_tasks; run_doctor if
   it stays broken); "wrong password"/"no key found" = repository password or keys changed;
   "no space left" = destination full; exit code 3/"could not be read" = unreadable files (permissions or
   excludes); "not mounted" = volume down; "Zerobyte was restarted" = interrupted, just rerun.
5. Answer with: what failed and since when, the cause in one sentence, the fix as numbered steps, and
   whether it is safe to rerun the backup now (run_backup). Change nothing without the user's approval."""


def restore_file_as_of_text(path: str, date: str, backup_job: str | None = None) -> str:
    job = (
        f"the backup job {backup_job!r}"
        if backup_job
        else "the backup job whose volume contains it (list_backup_jobs, list_volumes)"
    )
    return f"""Restore {path!r} as it was on {date}.

1. Identify {job}, and its repository.
2. Call find_file for {path!r} to confirm the exact path inside the snapshots (paths are as the volume
   saw them). If it is not found, list the parent folder of a recent snapshot and ask the user.
3. Call list_snapshots for that repository and job with until={date!r} (end of that day, UTC unless the
   user gave a time zone): the newest snapshot at or before that moment is the one to use. Say which
   snapshot (id and time) you picked and why; if the file changed that day, offer the snapshots around it.
4. Check the file is in that snapshot (browse its parent folder) and show its size and modification time.
   For a small text file, read_snapshot_file can show the content so the user can confirm the version.
5. Restore to a STAGING folder, never in place: the restore tool with a target_path under the allowed
   restore roots (for example <root>/restore-{date}); it never overwrites (overwrite='never'). Ask the
   user to confirm the snapshot and the target first.
6. Follow the task (wait_for_task) until it ends; report files restored/skipped and where the file is.
   Tell the user to check it there and move it into place themselves."""


def morning_health_report_text() -> str:
    return """Write this morning's backup report.

1. Call backup_health (one call covers every job, repository, volume and recent failure).
2. Lead with the verdict in one line (OK / WARNING / CRITICAL) and the summary.
3. Then, only if present, in this order: failing jobs, stale jobs (not run when their schedule says),
   repositories in error, volumes not mounted, warnings, unresolved failures of other tasks (mirror sync,
   retention, doctor). One line each: name, since when, message, next step.
4. Mention running tasks with their progress, and jobs that never ran.
5. If everything is OK, say so in two lines: how many jobs ran fine and when the next runs are due
   (list_backup_jobs has next_run).
6. End with at most three recommended actions, most urgent first. Change nothing yourself."""


def plan_backup_job_text(source_path: str, retention: str | None = None) -> str:
    keep = retention or "keep 7 daily, 4 weekly, 6 monthly and 1 yearly snapshots"
    return f"""Plan a backup job for {source_path!r} that follows the 3-2-1 rule.

1. Inventory: list_volumes (is there a volume for {source_path!r} already?), list_repositories (a local or
   LAN repository for fast restores, and an offsite one: S3/B2/R2, REST, SFTP), list_backup_jobs (is the
   path already backed up? avoid duplicate jobs and overlapping schedules on the same repository).
2. Propose, and ask the user to confirm before creating anything:
   - the volume (backend, path, read-only if possible);
   - the primary repository (local/LAN) and an offsite MIRROR repository (3 copies, 2 media, 1 offsite);
   - the schedule (for example daily at 02:00, outside working hours and other jobs' runs);
   - retention: {keep};
   - excludes for caches and temp files (for example .cache, node_modules, *.tmp, Thumbs.db);
   - failure notifications (a notification destination on warning and failure).
3. After it is created: run_backup for the first snapshot, follow it with wait_for_task, then check
   backup_health.
4. Plan a TEST RESTORE: restore one folder of the first snapshot to a staging path (overwrite never) and
   compare it with the source; repeat monthly. A backup is only proven by a restore."""


def prove_restorable_text(backup_job: str | None = None) -> str:
    which = f"backup job {backup_job!r}" if backup_job else "every backup job"
    arg = f" backup_job_id={backup_job!r}" if backup_job else ""
    return f"""Prove that the backups of {which} can be restored.

1. Call backup_health first: a job that is failing or never ran has nothing new to prove.
2. Call drill_backup{arg} (read-only: it reads a sample of files back through Zerobyte, hashes them and checks
   their sizes; it writes nothing). Keep its seed in your report.
3. Report the verdict per snapshot: restorable (how many files and bytes were read back), incomplete (what was
   left out and why: raise max_bytes or max_seconds and drill again) or failed (the file, the bytes read, the
   reason, and the next step the drill gives, such as run_doctor or restoring from a mirror).
4. Say plainly what a drill does not prove: it reads a sample, not every pack (restic check --read-data).
5. Change nothing yourself; a repair (run_doctor) takes an exclusive lock and needs the user's go-ahead."""


def register_prompts(server: MCPServer[Any]) -> None:
    """Register the prompts on ``server``."""

    @server.prompt(
        name="diagnose_failed_backup",
        title="Diagnose a failed backup",
        description="Find why a backup job failed (or all failing jobs) and the fix: tools to call, in order.",
    )
    def diagnose_failed_backup(
        backup_job: Annotated[str | None, Field(description="Job name or short id; all failing jobs if empty")] = None,
    ) -> str:
        return diagnose_failed_backup_text(backup_job)

    @server.prompt(
        name="restore_file_as_of",
        title="Restore a file as of a date",
        description="Restore one file or folder as it was on a date, safely to a staging folder.",
    )
    def restore_file_as_of(
        path: Annotated[str, Field(description="File or folder path, e.g. /srv/docs/tax.pdf")],
        date: Annotated[str, Field(description="Date (YYYY-MM-DD) or ISO time to restore as of")],
        backup_job: Annotated[str | None, Field(description="Job name or short id, if known")] = None,
    ) -> str:
        return restore_file_as_of_text(path, date, backup_job)

    @server.prompt(
        name="morning_health_report",
        title="Morning backup report",
        description="A short daily report of every backup: verdict, problems with next steps, what runs next.",
    )
    def morning_health_report() -> str:
        return morning_health_report_text()

    @server.prompt(
        name="prove_restorable",
        title="Prove backups restore",
        description="Run a read-only restore drill of one job or all, and report what it proved and what not.",
    )
    def prove_restorable(
        backup_job: Annotated[str | None, Field(description="Job name or short id; every job if empty")] = None,
    ) -> str:
        return prove_restorable_text(backup_job)

    @server.prompt(
        name="plan_backup_job",
        title="Plan a backup job (3-2-1)",
        description="Plan a new backup job for a path: volume, local + offsite repositories, schedule, "
        "retention, and a test restore.",
    )
    def plan_backup_job(
        source_path: Annotated[str, Field(description="Folder to back up, e.g. /srv/photos")],
        retention: Annotated[str | None, Field(description="Wanted retention, e.g. 'keep 14 daily'")] = None,
    ) -> str:
        return plan_backup_job_text(source_path, retention)
