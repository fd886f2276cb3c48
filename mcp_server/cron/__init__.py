"""Zerobyte's schedule language (cron-parser syntax): parsed and evaluated (``schedule``), put into words (``words``).

Agents read a job's schedule to answer "when does it run?" and "is it overdue?"; both need the cron
expression understood here rather than guessed: the next and previous runs, the longest gap between runs
(a job is stale only when it missed more than that), and a short description in words.
"""

from __future__ import annotations

from .schedule import CronError, CronSchedule, parse_cron, version_difference
from .words import describe_cron

__all__ = ["CronError", "CronSchedule", "describe_cron", "parse_cron", "version_difference"]
