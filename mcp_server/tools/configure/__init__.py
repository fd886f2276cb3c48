"""Configuration tools ("operate"): create and change volumes, repositories, backup jobs, mirrors and notifications.

Zerobyte's edits are not partial: ``PATCH /backups/{id}`` needs repositoryId and cronExpression and resets
the retry settings it is not sent, and the notification and mirror PUTs replace whole lists. So every edit
here reads the current object, merges one change into the RAW data Zerobyte returned (never a redacted
copy) and sends the complete result. Nothing here deletes data.

tools/list has a token budget, so arguments use compact notations an agent already knows from the read
tools (a volume ``source`` like ``//nas/photos``, a retention like ``daily 7, weekly 4``) plus a few
``key=value`` options; every parse failure says the expected notation, before any request is sent.

One module per domain — :mod:`.volumes`, :mod:`.repositories`, :mod:`.jobs`, :mod:`.mirrors`,
:mod:`.notifications` — over :mod:`.common` (argument types, the :class:`~.common.Change` answer, helpers).
This package imports none of them: a server imports only the modules holding the tools it offers.
"""
