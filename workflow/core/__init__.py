"""The core: models and migrations, the one writer of task and record rows, the audit chain, replay, settings, errors, clock."""
