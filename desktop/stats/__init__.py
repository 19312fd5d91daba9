"""The 统计 page: figures for any period, breakdowns, a chart, the 考核 ranking, the report."""

from .page import StatsPage

__all__ = ["StatsPage"]
