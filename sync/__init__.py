"""Gridroom's Qt-free core: the data and its journey.

``sync.model`` holds the records and rules shared by client and server, ``sync.store`` the local
SQLite store, ``sync.client`` replication with the county, ``sync.county`` the reference county
platform. Nothing in this package imports Qt.
"""
