"""五级贯通 in the desktop: what the county command centre and the supervisor work from.

The same app at every level: a county-scope device shows the county board on the dashboard
(escalated, held, handed-down, overdue and urged cases by township), the 上报待受理 queue and the
交办 form; a township device shows a case at county level read-only with its progress; every
device shows the supervisor's 待审批 queue (dashboard card, list filter, navigation badge).
The rules are the shared model's (``sync.model.workflow``, ``sync.model.scope``); this package
only shows them. Its strings are the ``county`` translation set.
"""
