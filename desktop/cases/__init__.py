"""The case pages: the lazy case list with its filters, and the case detail with its actions."""
