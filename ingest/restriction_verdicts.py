"""Whether each stored version of a paper marks itself not for the public, kept between runs.

Every run checks an unchanged paper's access (an edited sidecar takes effect with nothing
embedded again), and where no sidecar gives one, the paper's own marks decide: reading them
again from every paper's stored front pages costs about 2.5 ms a paper, seconds for an
archive. A version's marks never change (its bytes and the reading rules make the version),
so each verdict is kept in the data folder by version; a lost or torn file only costs the
reading again.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Collection, Sequence
from pathlib import Path

from ingest.models import Page
from ingest.reading.restriction import find_restriction
from ingest.whole_files import write_whole

log = logging.getLogger(__name__)


class RestrictionVerdicts:
    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            kept = json.loads(path.read_text(encoding="utf-8"))
            self._marked = {str(version): bool(marked) for version, marked in kept.items()}
        except (OSError, ValueError, AttributeError):
            self._marked = {}
        self._changed = False

    def marked(self, version: str, front_pages: Callable[[], Sequence[Page]]) -> bool:
        """Whether the version's front pages (read only when no verdict is kept) mark it."""
        verdict = self._marked.get(version)
        if verdict is None:
            verdict = self._marked[version] = find_restriction(front_pages()) is not None
            self._changed = True
        return verdict

    @property
    def changed(self) -> bool:
        return self._changed

    def save(self, live_versions: Collection[str]) -> None:
        """Keep the verdicts of the live versions (written whole); a read-only or full data
        folder keeps none."""
        live = set(live_versions)
        self._marked = {
            version: marked for version, marked in self._marked.items() if version in live
        }
        try:
            write_whole(self.path, json.dumps(self._marked))
        except OSError as error:
            log.warning("could not keep the papers' restriction verdicts: %s", error)
        self._changed = False
