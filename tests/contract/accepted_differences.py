"""Every difference between the simulator and a real Zerobyte that the differential check accepts, with why.

``tests/contract/test_simulator_vs_real.py`` runs one scripted scenario against both and requires equal
normalised answers, step by step. A step listed here is compared with the listed JSON paths removed from
both answers (``*`` matches any list index or key). Any other difference is a simulator bug to fix, and an
entry that no longer hides a difference fails the check, so this list stays exactly as long as it must be.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Accepted:
    paths: tuple[str, ...]
    reason: str


ACCEPTED: dict[str, Accepted] = {
    "files walk first page": Accepted(
        ("body/files/*/mode",),
        "the folders above the backed-up one are the host's (/tmp is 1777, pytest's folders 0700); the simulator "
        "gives every folder restic's 0755 (the modes of the backed-up files and folders are compared elsewhere)",
    ),
}

# The v0.41.0 scenario (legacy_scenario): routes whose answers differ on the latest stable release.
ACCEPTED_V041: dict[str, Accepted] = {}
