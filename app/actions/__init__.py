"""Deleting entries safely: plans, the keep list, journals and undo."""
