"""Snapshot tools: list, inspect, browse, search, read and compare what a backup captured.

Zerobyte lists a repository's snapshots all at once (oldest first, no paging, no time filter) and can only
list one snapshot folder per request, so the filters, the paging and the cross-snapshot search an agent
needs are built here, with a hard bound on the number of requests each call may make. One module per
responsibility: ``common`` (arguments, time window, repository/job scope), ``listing`` (list_snapshots,
get_snapshot), ``files`` (list_snapshot_files, read_snapshot_file), ``find`` (find_file) with its
``patterns`` and Zerobyte ``search``, ``compare`` (compare_snapshots), and ``indexing`` (waiting on the
catalog's indexer). Every tool here only reads.
"""
