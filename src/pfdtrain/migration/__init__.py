"""Reading and upgrading legacy (v1) checkpoint files into the v2 format of :mod:`pfdtrain.checkpoint`.

One file's journey through ``migrate-checkpoint``, in the order the modules are used:

0. ``source_check``: before torch reads anything, every storage against its record
   (``zip_records`` reads the archive strictly), CRCs, and the pickle's shape; only regular
   files are opened.
1. ``safe_load``: open the file without running code from it (``skeleton`` reads a pickle's
   structure without unpickling, for ``scan``; ``legacy_values`` turns harmless legacy objects
   such as ``argparse.Namespace`` and paths into plain data).
2. ``layouts``: which legacy writer made it (rules over its keys; ``v1_layouts`` holds the rules
   for each legacy writer).
3. ``upgraders``: a registry of small pure functions from a layout to v2 (``v1_mapping`` says
   where each legacy key goes), and back (``--downgrade``).
4. ``any_format``: steps 1-3 in memory (``load_any``, what ``Trainer.fit(ckpt_path=...)`` uses).
5. ``migrate``: the one-file migration on disk: write (``fast_save`` copies memory-mapped storages
   at copy speed, ``mapped_archive`` tells which record a mapped storage is), verify (``verify``:
   the record checks again, CRCs read back from the file, ``compare``), back up, replace.

The v2 format itself (writing, reading, atomic replacement) is :mod:`pfdtrain.checkpoint`; this
package depends on it, never the other way round.
"""
