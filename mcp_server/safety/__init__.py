"""Safety: the policies every layer leans on, importing nothing of ours above them.

``redact`` keeps secrets out of every string, ``audit`` records every non-read call, ``tokens`` issues and checks
single-use confirmation tokens, ``retention`` evaluates restic's keep rules for previews of what a change would
forget. Asking for confirmation (``tools.confirm``) and allowed folders (``tools.confine``) sit with the tools
that use them.
"""
