"""What changed since the marts were last built: the batches (platform delivery dates, transcript and OTel
collections) that the loaders have rewritten, and whether the org directory changed.

Loaders record a batch here whenever they actually rewrite its lake partitions (an unchanged delivery is
skipped and records nothing). The transform step passes the pending batches to dbt, whose incremental models
rebuild only the sessions and days those batches touch, and clears them once dbt has succeeded: a failed run
leaves them pending, so the next run picks them up again. A changed directory (time zones, users' emails,
path mappings) can move any session to another day or user, so it asks for a full rebuild, as does
`refresh --full`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from orchestration.ingest import lake

STATE_FILE = Path("_state") / "pending_changes.json"
DIRECTORY = "directory"


@dataclass
class PendingChanges:
    # source ("platform", "claude_code", "otel") -> batches (delivery dates or collection names)
    batches: dict[str, list[str]] = field(default_factory=dict)
    full_rebuild: bool = False

    def is_empty(self) -> bool:
        return not self.full_rebuild and not any(self.batches.values())

    def dbt_vars(self) -> dict:
        """The `changed_batches` var of the dbt project (see dbt_project/macros/incremental.sql)."""
        return {"changed_batches": {source: sorted(names) for source, names in self.batches.items()}}


def _state_path(lake_dir: Path) -> Path:
    return lake_dir / STATE_FILE


def pending(lake_dir: Path) -> PendingChanges:
    state = lake.read_state(_state_path(lake_dir))
    if state is None:
        # No (readable) record: the marts were never built from this lake, or its state was forgotten or cut.
        return PendingChanges(full_rebuild=True)
    return PendingChanges(batches=state["batches"], full_rebuild=state["full_rebuild"])


def _save(lake_dir: Path, changes: PendingChanges) -> None:
    lake.write_state(_state_path(lake_dir), {"batches": changes.batches, "full_rebuild": changes.full_rebuild})


def record_batch(lake_dir: Path, source: str, batch: str) -> None:
    changes = pending(lake_dir)
    names = changes.batches.setdefault(source, [])
    if batch not in names:
        names.append(batch)
    _save(lake_dir, changes)


def record_full_rebuild(lake_dir: Path) -> None:
    changes = pending(lake_dir)
    changes.full_rebuild = True
    _save(lake_dir, changes)


def mark_built(lake_dir: Path, built: PendingChanges) -> None:
    """Forget the changes a successful dbt build has processed; keep any recorded meanwhile."""
    current = pending(lake_dir) if _state_path(lake_dir).exists() else PendingChanges()
    remaining = {
        source: [name for name in names if name not in built.batches.get(source, [])]
        for source, names in current.batches.items()
    }
    _save(
        lake_dir,
        PendingChanges(
            batches={source: names for source, names in remaining.items() if names},
            full_rebuild=current.full_rebuild and not built.full_rebuild,
        ),
    )
