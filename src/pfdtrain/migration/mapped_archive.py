"""Which record of a memory-mapped zip checkpoint a piece of this process's memory is.

``torch.load(mmap=True)`` maps the whole file once, and each storage is a slice of that mapping.
The address of a storage, the mapping's start (from ``/proc/self/maps``, matched by device and
inode) and the file offset of the mapping give the storage's offset in the file, hence its record.
Where ``/proc/self/maps`` does not exist nothing is found, and callers fall back to plain work.
"""

from __future__ import annotations

import os
from pathlib import Path

from pfdtrain.migration.zip_records import ZipLayout, ZipRecord


class MappedArchive:
    """A zip checkpoint (already checked: its :class:`ZipLayout`) that this process may have mapped."""

    def __init__(self, path: str | os.PathLike[str], layout: ZipLayout) -> None:
        self.path = Path(path)
        info = os.stat(self.path)
        major, minor = getattr(os, "major", None), getattr(os, "minor", None)
        self._identity = (major(info.st_dev), minor(info.st_dev), info.st_ino) if major and minor else None
        self._records = {record.data_offset: record for record in layout.records}
        self._maps: list[tuple[int, int, int]] | None = None

    def find(self, address: int, size: int) -> ZipRecord | None:
        """The record whose data is exactly the ``size`` bytes mapped at ``address``, if any."""
        if self._maps is None:
            self._maps = self._mappings()
        for start, end, file_offset in self._maps:
            if start <= address and address + size <= end:
                record = self._records.get(address - start + file_offset)
                if record is not None and record.size == size:
                    return record
        return None

    def _mappings(self) -> list[tuple[int, int, int]]:
        found: list[tuple[int, int, int]] = []
        if self._identity is None:
            return found
        try:
            with open("/proc/self/maps", encoding="ascii", errors="replace") as maps:
                for line in maps:
                    parts = line.split(maxsplit=5)
                    if len(parts) < 6 or ":" not in parts[3]:
                        continue
                    major, minor = (int(x, 16) for x in parts[3].split(":"))
                    if (major, minor, int(parts[4])) == self._identity:
                        start, end = (int(x, 16) for x in parts[0].split("-"))
                        found.append((start, end, int(parts[2], 16)))
        except (OSError, ValueError):
            return []
        return found
