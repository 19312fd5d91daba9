"""The 网格 page: the county → township → village → grid tree and each grid's team and cases."""

from .page import GridsPage

__all__ = ["GridsPage"]
