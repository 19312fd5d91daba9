"""The people's side: PySide6 widgets, Qt item models and background operations over ``sync``."""
