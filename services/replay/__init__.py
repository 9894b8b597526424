"""Replay and what-if (issue 7): the recorded inputs re-run through the live decision code
in a sandbox database, diffed and reported. Nothing live is written."""
