"""Answers: how what Zerobyte says becomes what an agent reads.

``names`` folds and suggests names, ``resolve`` turns names and ``latest`` into ids, ``notation`` writes and parses
the compact backend notations, ``output`` shapes sizes, times and text, ``task_views`` tells what a task is doing,
``concurrency`` awaits several calls with failures kept actionable, ``failure`` is the refusal an agent reads.
"""
