"""The micro model suite: GPT-NeoX models trained by the workflow on the bundled corpus."""
