"""Statistics and assessment (统计·考核): rates for any period, breakdowns, rankings, reports.

Qt-free; depends on :mod:`sync.store` and :mod:`sync.model` only.
"""
