"""Bar charts whose bars are links: clicking one lands on the matching case list."""

from __future__ import annotations

from PySide6.QtCharts import (
    QBarCategoryAxis,
    QBarSeries,
    QBarSet,
    QChart,
    QChartView,
    QHorizontalBarSeries,
    QValueAxis,
)
from PySide6.QtCore import QMargins, Qt, Signal
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import QApplication, QWidget

BAR_COLOUR = QColor("#2f6fde")


class BarChart(QChartView):
    """A one-series bar chart of ``(key, label, value)`` items.

    Signals:
        bar_clicked(str): the user clicked the bar of this key.
    """

    bar_clicked = Signal(str)

    def __init__(self, title: str, *, horizontal: bool, parent: QWidget | None = None) -> None:
        chart = QChart()
        chart.setAnimationOptions(QChart.AnimationOption.NoAnimation)
        chart.legend().setVisible(False)
        chart.setMargins(QMargins(4, 4, 4, 4))
        chart.setBackgroundRoundness(4)
        title_font = QFont(QApplication.font())
        title_font.setBold(True)
        # Axis labels a size smaller than the text, so ten village names fit without eliding.
        font = QFont(QApplication.font())
        font.setPointSizeF(max(7.0, font.pointSizeF() - 1.5))
        chart.setTitleFont(title_font)
        chart.setTitle(title)
        super().__init__(chart, parent)
        self.setMinimumHeight(260)
        self._chart = chart
        self._font = font
        self._horizontal = horizontal
        self._keys: list[str] = []
        self._values: list[int] = []
        self._series: QBarSeries | QHorizontalBarSeries | None = None
        self._value_axis = QValueAxis()
        self.setCursor(Qt.CursorShape.PointingHandCursor)

    def keys(self) -> list[str]:
        return list(self._keys)

    def values(self) -> list[int]:
        return list(self._values)

    def set_items(self, items: list[tuple[str, str, int]]) -> None:
        """Replace the bars (horizontal charts list the first item at the top)."""
        if self._horizontal:
            items = list(reversed(items))  # Qt draws the first category at the bottom
        keys = [k for k, _label, _v in items]
        if self._series is not None and keys == self._keys and keys:
            # Same bars, new heights: update in place (rebuilding a chart costs a frame).
            self._values = [v for _k, _label, v in items]
            bar_set = self._series.barSets()[0]
            for i, value in enumerate(self._values):
                bar_set.replace(i, float(value))
            self._fit_value_axis()
            return
        self._build(items)

    def _fit_value_axis(self) -> None:
        # Room above the tallest bar for its label; Qt then picks round ticks (1, 2, 5 × 10ⁿ).
        top = max(4.0, max(self._values, default=0) * 1.12)
        self._value_axis.setRange(0, top)
        self._value_axis.setTickCount(5)
        self._value_axis.applyNiceNumbers()

    def _build(self, items: list[tuple[str, str, int]]) -> None:
        chart = self._chart
        chart.removeAllSeries()
        for axis in chart.axes():
            chart.removeAxis(axis)
        self._keys = [k for k, _label, _v in items]
        self._values = [v for _k, _label, v in items]
        bar_set = QBarSet("")
        bar_set.setColor(BAR_COLOUR)
        bar_set.setLabelColor(QColor("#1f2329"))
        bar_set.append([float(v) for v in self._values])
        bar_set.clicked.connect(self._clicked)
        series: QBarSeries | QHorizontalBarSeries = (
            QHorizontalBarSeries() if self._horizontal else QBarSeries()
        )
        series.append(bar_set)
        series.setLabelsVisible(True)
        series.setLabelsPosition(QBarSeries.LabelsPosition.LabelsOutsideEnd)
        series.setBarWidth(0.7)
        chart.addSeries(series)
        categories = QBarCategoryAxis()
        categories.append([label for _k, label, _v in items] or [""])
        categories.setLabelsFont(self._font)
        values = QValueAxis()
        values.setLabelFormat("%d")
        values.setLabelsFont(self._font)
        self._value_axis = values
        self._fit_value_axis()
        if self._horizontal:
            chart.addAxis(categories, Qt.AlignmentFlag.AlignLeft)
            chart.addAxis(values, Qt.AlignmentFlag.AlignBottom)
        else:
            chart.addAxis(categories, Qt.AlignmentFlag.AlignBottom)
            chart.addAxis(values, Qt.AlignmentFlag.AlignLeft)
        series.attachAxis(categories)
        series.attachAxis(values)
        self._series = series

    def click_bar(self, index: int) -> None:
        """What a mouse click on bar ``index`` does (also used by keyboard users' menus)."""
        self._clicked(index)

    def _clicked(self, index: int) -> None:
        if 0 <= index < len(self._keys):
            self.bar_clicked.emit(self._keys[index])
