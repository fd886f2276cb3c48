"""Ready-made simulator worlds: a realistic homelab for demos, and a large one for scale tests.

Exists so ``zerobyte-mcp --demo`` shows something worth exploring (healthy, warning, failing and stale
backups, secrets that must be redacted, retention, a mirror, history) and so tests can check paging
and performance against thousands of snapshots and 100k files without waiting for them to build.
"""

from __future__ import annotations

from ._util import Json, iso_from_ms, stable_hash
from .files import Node, Symlink, TreeSpec, build_tree, generated_tree
from .state import DEFAULT_LOCK_ERROR, DEFAULT_WARNING_DETAILS, Simulator, diff_trees

DAY = 86_400_000
HOUR = 3_600_000

_CONFIG_YAML = """\
# Home Assistant style config kept in the documents share
server:
  host: 0.0.0.0
  port: 8123
backup:
  enabled: true
  keep: 7
"""

_FAKE_PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n"


def _photos_tree(upto_day: int) -> TreeSpec:
    """Photos grow over time: ``upto_day`` decides how many 2026 pictures exist."""
    y2026 = {
        f"IMG_2026{m:02d}{d:02d}_{i:03d}.jpg": 2_400_000 + (stable_hash(m, d, i) % 3_000_000)
        for m in (1, 2)
        for d in (3, 14, 27)
        for i in range(2)
    }
    recent = {
        f"IMG_202611{day:02d}_{i:03d}.jpg": 3_100_000 + i * 17_000
        for day in range(1, upto_day + 1, 3)
        for i in range(2)
    }
    return {
        "photos": {
            "2024": {f"IMG_2024{m:02d}01_001.jpg": 2_000_000 + m * 50_000 for m in range(1, 13)},
            "2025": {
                "summer": {f"beach_{i:02d}.jpg": 4_200_000 + i * 1000 for i in range(8)},
                "winter": {f"snow_{i:02d}.heic": 1_900_000 + i * 1000 for i in range(5)},
            },
            "2026": {**y2026, **recent},
        },
        "albums.json": '{"albums": ["summer", "winter", "family"]}\n',
    }


def _documents_tree(version: int) -> TreeSpec:
    taxes_2025: dict[str, bytes | str | int] = {"tax.pdf": _FAKE_PDF, "receipts.zip": 1_250_000}
    if version >= 2:
        taxes_2025["amended-return.pdf"] = _FAKE_PDF + b"% amended\n"
    return {
        "docs": {
            "taxes": {"2024": {"tax.pdf": _FAKE_PDF, "w2.pdf": 88_000}, "2025": taxes_2025},
            "contracts": {"lease-2026.pdf": 420_000, "car-insurance.pdf": 310_000},
            "notes.md": "# Household notes\n\n- renew passport in March\n- boiler service due\n",
        },
        "config.yaml": _CONFIG_YAML,
        "private": {".cache": {"thumbs.db": 4096}},
        "link-to-notes": Symlink("docs/notes.md"),
    }


def _nextcloud_tree(version: int) -> TreeSpec:
    files = {f"report-{i}.odt": 50_000 + i * 1000 for i in range(version + 3)}
    return {
        "config": {
            "config.php": (
                "<?php\n$CONFIG = array (\n  'instanceid' => 'ocdemo',\n"
                "  'datadirectory' => '/var/www/html/data',\n);\n"
            )
        },
        "data": {
            "alice": {"files": {"Documents": files, "Photos": {"cat.jpg": 2_800_000}}},
            "bob": {"files": {"Music": {f"track{i:02d}.flac": 25_000_000 for i in range(4)}}},
        },
    }


def seed_demo(sim: Simulator) -> None:
    """Fill ``sim`` with a believable homelab (see module docstring)."""
    now = sim.now_ms()
    with sim.lock:
        photos = sim.add_volume("photos", path="/srv/photos", created_at=now - 120 * DAY)
        documents = sim.add_volume("documents", path="/srv/documents", created_at=now - 120 * DAY)
        nextcloud = sim.add_volume(
            "nextcloud",
            backend="smb",
            config={
                "backend": "smb",
                "server": "nas.lan",
                "share": "nextcloud",
                "username": "backup",
                "password": "Nc-Backup-2026!",
                "vers": "3.0",
                "port": 445,
                "mapToContainerUidGid": False,
            },
            created_at=now - 90 * DAY,
        )
        local = sim.add_repository("local-nas", config={"path": "/mnt/nas/restic"}, created_at=now - 120 * DAY)
        b2 = sim.add_repository(
            "offsite-b2",
            backend="s3",
            config={
                "endpoint": "https://s3.us-west-004.backblazeb2.com",
                "bucket": "homelab-restic",
                "accessKeyId": "004a1b2c3d4e5f60000000001",
                "secretAccessKey": "K004abcdefghijklmnopqrstuvwxyzABCDE",
                "customPassword": "correct-horse-battery-staple",
            },
            created_at=now - 100 * DAY,
        )
        rest = sim.add_repository(
            "rest-server",
            backend="rest",
            config={"url": "https://backup:s3cr3t-Pa55@restic.example.org:8000/homelab", "path": "nextcloud"},
            status="error",
            last_error="Failed to lock repository: repository is already locked. Try to run doctor on the repository.",
            created_at=now - 90 * DAY,
        )
        sim.lock_repository(rest["shortId"], DEFAULT_LOCK_ERROR)

        keep = {"keepLast": 7, "keepDaily": 14, "keepWeekly": 8, "keepMonthly": 12}
        j_photos = sim.add_backup_job(
            "photos-nightly",
            volume=photos["shortId"],
            repository=local["shortId"],
            cron="0 2 * * *",
            retention=keep,
            exclude_patterns=["*.tmp", ".thumbnails"],
            created_at=now - 119 * DAY,
        )
        j_docs = sim.add_backup_job(
            "documents-offsite",
            volume=documents["shortId"],
            repository=b2["shortId"],
            cron="30 3 * * *",
            retention={"keepDaily": 7, "keepWeekly": 4, "keepMonthly": 6},
            created_at=now - 99 * DAY,
        )
        j_nc = sim.add_backup_job(
            "nextcloud-rest",
            volume=nextcloud["shortId"],
            repository=rest["shortId"],
            cron="0 4 * * *",
            retention={"keepLast": 10},
            created_at=now - 89 * DAY,
        )
        j_old = sim.add_backup_job(
            "old-laptop-archive",
            volume=documents["shortId"],
            repository=local["shortId"],
            cron="0 5 * * 0",
            enabled=False,
            created_at=now - 200 * DAY,
        )
        sim.backup_outcomes[j_docs["shortId"]] = "warning"

        def day_at(days_ago: int, hour: int, minute: int = 0) -> int:
            midnight = (now // DAY) * DAY
            return midnight - days_ago * DAY + hour * HOUR + minute * 60_000

        history: list[tuple[int, str, str, str | None, Json | None]] = []

        def snapshots_for(
            job: Json, repo: Json, times: list[int], tree_for: list[Node], warn_from: int | None = None
        ) -> None:
            previous: Node | None = None
            for n, (t, tree) in enumerate(zip(times, tree_for, strict=True)):
                counters = diff_trees(previous, tree)
                duration = 2_000 + stable_hash(job["shortId"], t) % 40_000
                summary = {
                    **counters,
                    "total_files_processed": tree.file_count(),
                    "total_bytes_processed": tree.total_bytes(),
                    "backup_start": iso_from_ms(t),
                    "backup_end": iso_from_ms(t + duration),
                }
                repo_row = sim.find_repository(repo["shortId"])
                assert repo_row is not None
                vol = sim.volumes[job["volumeId"]]
                snap = sim._add_snapshot_obj(
                    repo_row,
                    tree=tree,
                    time_ms=t,
                    paths=[sim.volume_path(vol)],
                    tags=[job["shortId"]],
                    duration_ms=duration,
                    summary=summary,
                )
                warned = warn_from is not None and n >= warn_from
                result = {
                    "kind": "backup",
                    "exitCode": 3 if warned else 0,
                    "result": {
                        **{k: v for k, v in summary.items() if k not in ("backup_start", "backup_end")},
                        "total_duration": duration / 1000,
                        "snapshot_id": snap.id,
                        "message_type": "summary",
                    },
                    "warningDetails": DEFAULT_WARNING_DETAILS if warned else None,
                }
                history.append((t - 50, job["shortId"], "succeeded", None, result))
                previous = tree

        # file mtimes hang off one base per volume, so unchanged files stay unchanged between snapshots
        base = day_at(31, 0)
        photo_trees = [build_tree(_photos_tree(min(27, 1 + d)), mtime_ms=base) for d in range(30)]
        snapshots_for(j_photos, local, [day_at(30 - d, 2, 0) for d in range(30)], photo_trees)
        doc_trees = [build_tree(_documents_tree(1 if d < 8 else 2), mtime_ms=base) for d in range(12)]
        snapshots_for(j_docs, b2, [day_at(23 - d * 2, 3, 30) for d in range(12)], doc_trees, warn_from=8)
        nc_trees = [build_tree(_nextcloud_tree(d), mtime_ms=base) for d in range(5)]
        snapshots_for(j_nc, rest, [day_at(12 - d * 2, 4, 0) for d in range(5)], nc_trees)
        old_trees = [build_tree(_documents_tree(1), mtime_ms=day_at(60, 1))] * 3
        snapshots_for(j_old, local, [day_at(59, 5), day_at(52, 5), day_at(45, 5)], old_trees)
        sim.set_volume_files(photos["shortId"], photo_trees[-1])
        sim.set_volume_files(documents["shortId"], doc_trees[-1])
        sim.set_volume_files(nextcloud["shortId"], nc_trees[-1])

        # nextcloud has failed since the repository got locked three days ago
        for days_ago in (3, 2, 1, 0):
            t = day_at(days_ago, 4)
            if t < now:
                history.append((t, j_nc["shortId"], "failed", DEFAULT_LOCK_ERROR, None))

        for created, job_id, status, error, result in sorted(history, key=lambda h: h[0]):
            sim.add_task(
                "backup", job=job_id, status=status, created_at=created, error=error, result=result, duration_ms=30_000
            )
            if status == "succeeded":
                sim.add_task("forget", job=job_id, created_at=created + 31_000, duration_ms=4_000)
        sim.add_task("backup", job=j_photos["shortId"], status="cancelled", created_at=day_at(9, 14), duration_ms=8_000)
        sim.add_task(
            "restore", repository=local["shortId"], snapshot_id=None, created_at=day_at(6, 20), duration_ms=12_000
        )
        sim.add_task(
            "doctor",
            repository=rest["shortId"],
            status="failed",
            created_at=day_at(2, 9),
            error="Command failed: repository is already locked exclusively by PID 4711",
            duration_ms=5_000,
        )

        # schedule state consistent with that history
        last_photo = day_at(1, 2)
        for job, status, err, last in (
            (j_photos, "success", None, last_photo),
            (j_docs, "warning", DEFAULT_WARNING_DETAILS, day_at(1, 3, 30)),
            (j_nc, "error", DEFAULT_LOCK_ERROR, max(h[0] for h in history if h[1] == j_nc["shortId"])),
            (j_old, "success", None, day_at(45, 5)),
        ):
            row = sim.find_schedule(job["shortId"])
            assert row is not None
            row.update(lastBackupStatus=status, lastBackupError=err, lastBackupAt=last, updatedAt=last)
        old_row = sim.find_schedule(j_old["shortId"])
        assert old_row is not None
        old_row["nextBackupAt"] = None

        # notifications
        webhook = sim.add_notification_destination(
            "ops-webhook",
            type="generic",
            config={
                "url": "https://hooks.example.net/zerobyte/homelab",
                "method": "POST",
                "contentType": "application/json",
                "headers": ["Authorization: Bearer hk_live_9f8e7d6c5b4a3928", "X-Source: zerobyte"],
                "useJson": True,
                "titleKey": "title",
                "messageKey": "message",
            },
            status="healthy",
        )
        telegram = sim.add_notification_destination(
            "family-telegram",
            type="telegram",
            config={"botToken": "7301234567:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw", "chatId": "-1001234567890"},
            status="healthy",
        )
        for job in (j_photos, j_docs, j_nc):
            sim.assign_notification(job["shortId"], webhook["id"], on_warning=True, on_failure=True)
        sim.assign_notification(j_photos["shortId"], telegram["id"], on_success=True, on_failure=True)

        # photos are mirrored to B2; the last sync copied all but the newest snapshots
        sim.add_mirror(j_photos["shortId"], b2["shortId"])
        schedule = sim.find_schedule(j_photos["shortId"])
        b2_row = sim.find_repository(b2["shortId"])
        local_row = sim.find_repository(local["shortId"])
        assert schedule is not None and b2_row is not None and local_row is not None
        for snap in sorted(sim.snapshots_of(local_row), key=lambda s: s.time_ms)[:-2]:
            if schedule["shortId"] in snap.tags:
                sim._copy_snapshot(b2_row, snap)
        sync = sim.add_task(
            "mirrorSync",
            job=j_photos["shortId"],
            repository=b2["shortId"],
            created_at=day_at(3, 2, 5),
            duration_ms=90_000,
        )
        mirror = next(m for m in sim._mirrors.values() if m["scheduleId"] == schedule["id"])
        mirror["lastSyncTaskId"] = sync["id"]

        # retention already ran after every backup, as it would have on a real server
        for job in (j_photos, j_docs, j_nc):
            row = sim.find_schedule(job["shortId"])
            assert row is not None
            sim.runners.apply_retention(sim.repositories[row["repositoryId"]], row)
        photos_row = sim.find_schedule(j_photos["shortId"])
        assert photos_row is not None
        sim.runners.apply_retention(b2_row, photos_row)
        for repo_row in sim.repositories.values():
            sim.refresh_stats(repo_row)


def seed_scale(sim: Simulator, *, snapshots: int = 5000, files: int = 100_000, history: int = 500) -> Json:
    """Add a large world: one volume of ``files`` lazily generated files, ``snapshots`` hourly snapshots
    of it in one repository, and ``history`` finished tasks. Returns the ids created."""
    now = sim.now_ms()
    with sim.lock:
        tree = generated_tree(files, mtime_ms=now - DAY, top="bulk")
        total_bytes = sum(1024 + stable_hash("size", j) % (4 << 20) for j in range(files))
        vol = sim.add_volume("bulk-data", path="/srv/bulk", created_at=now - 400 * DAY)
        vol_row = sim.find_volume(vol["shortId"])
        assert vol_row is not None
        sim.set_volume_files(vol["shortId"], tree)
        repo = sim.add_repository("bulk-repo", config={"path": "/mnt/bulk/restic"}, created_at=now - 400 * DAY)
        job = sim.add_backup_job(
            "bulk-hourly",
            volume=vol["shortId"],
            repository=repo["shortId"],
            cron="0 * * * *",
            retention={"keepHourly": 24, "keepDaily": 30, "keepWeekly": 52, "keepMonthly": 24, "keepYearly": 10},
            created_at=now - 400 * DAY,
        )
        repo_row = sim.find_repository(repo["shortId"])
        assert repo_row is not None
        dirs = tree.count() - files
        start = (now // HOUR) * HOUR - snapshots * HOUR
        latest = None
        for i in range(snapshots):
            t = start + i * HOUR
            summary = {
                "files_new": 0 if i else files,
                "files_changed": 3 if i else 0,
                "files_unmodified": files - 3 if i else 0,
                "dirs_new": 0 if i else dirs,
                "dirs_changed": 2 if i else 0,
                "dirs_unmodified": dirs - 2 if i else 0,
                "data_blobs": 3,
                "tree_blobs": 3,
                "data_added": 9_000_000,
                "data_added_packed": 6_000_000,
                "total_files_processed": files,
                "total_bytes_processed": total_bytes,
                "backup_start": iso_from_ms(t),
                "backup_end": iso_from_ms(t + 95_000),
            }
            latest = sim._add_snapshot_obj(
                repo_row,
                tree=tree,
                time_ms=t,
                paths=["/srv/bulk"],
                tags=[job["shortId"]],
                size=total_bytes,
                duration_ms=95_000,
                summary=summary,
            )
        sim.refresh_stats(repo_row)
        task_ids = sim.add_history(history, job=job["shortId"], every_ms=HOUR) if history else []
        row = sim.find_schedule(job["shortId"])
        assert row is not None
        if latest is not None:
            row.update(lastBackupAt=latest.time_ms + 95_000, lastBackupStatus="success")
        return {
            "volume": vol["shortId"],
            "repository": repo["shortId"],
            "schedule": job["shortId"],
            "snapshots": snapshots,
            "files": files,
            "history": len(task_ids),
            "latest_snapshot": latest.short_id if latest else None,
            "path": "/srv/bulk",
        }
