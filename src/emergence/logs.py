"""Logging for workflow jobs: everything a job says goes to its rule's log file."""

from __future__ import annotations

import logging
import sys
from pathlib import Path


def setup_logging(log_file: str | Path | None, name: str = "emergence") -> logging.Logger:
    """Send ``name``'s records, warnings and an uncaught exception to ``log_file`` and stderr.

    Progress bars (tqdm) write to stderr; with both destinations the user sees progress on the
    terminal and the log keeps the full record.
    """
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if log_file is not None:
        Path(log_file).parent.mkdir(parents=True, exist_ok=True)
        handlers.append(logging.FileHandler(log_file, mode="w"))
    logging.basicConfig(
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        handlers=handlers,
        force=True,
    )
    logging.captureWarnings(True)
    logger = logging.getLogger(name)

    def log_uncaught(exc_type, exc, tb) -> None:  # type: ignore[no-untyped-def]
        # The reason a job failed belongs in its log file, not only on the terminal.
        logger.critical("job failed: %s", exc, exc_info=(exc_type, exc, tb))

    sys.excepthook = log_uncaught
    return logger
