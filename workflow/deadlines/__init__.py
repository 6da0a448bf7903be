"""Deadlines: the working-day calendar, the rules, the sweep, the overdue view, report obligations, the scheduler."""
