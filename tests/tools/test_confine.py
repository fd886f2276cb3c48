"""Directory sources: under the configured roots, never at or around Zerobyte's data folder."""

from __future__ import annotations

import pytest

from mcp_server.tools.base import ToolFailure
from mcp_server.tools.confine import check_directory_source

DATA = ["/var/lib/zerobyte", "/srv/zb", "/srv/zb/repositories/abcd1234"]


def test_a_source_under_a_root_passes_normalised() -> None:
    assert check_directory_source("/srv/photos/", ["/srv"], DATA) == "/srv/photos"


@pytest.mark.parametrize("source", ["/srv/zb", "/srv/zb/data", "/srv", "/var/lib", "/srv/zb/repositories"])
def test_zerobytes_data_or_a_folder_holding_it_is_refused_whatever_the_roots(source: str) -> None:
    with pytest.raises(ToolFailure, match="Zerobyte's own data"):
        check_directory_source(source, ["/"], DATA)


def test_outside_the_roots_is_refused_and_no_roots_means_off() -> None:
    with pytest.raises(ToolFailure, match="outside the allowed volume folders"):
        check_directory_source("/etc", ["/srv/photos"], DATA)
    with pytest.raises(ToolFailure, match="no volume roots are configured"):
        check_directory_source("/srv/photos", [], DATA)
    with pytest.raises(ToolFailure, match="outside"):
        check_directory_source("/srv/photos-evil", ["/srv/photos"], [])
