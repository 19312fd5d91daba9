"""The 工作台 dashboard: today's figures, the red and yellow lists, month rates and charts."""

from .page import DashboardPage

__all__ = ["DashboardPage"]
