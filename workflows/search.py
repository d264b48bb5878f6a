"""Search attributes ops filter ports by (Temporal UI and ``starter.py list``).

They must be registered on the server before a workflow upserts them (``make demo`` and
the test fixtures do it from ``SEARCH_ATTRIBUTES``). Never a phone number, PIN or account
number here: these values are visible to everyone with UI access.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from temporalio.common import SearchAttributeKey

PORT_STATUS = SearchAttributeKey.for_keyword("PortStatus")
PORT_DATE = SearchAttributeKey.for_datetime("PortDate")
LOSING_CARRIER = SearchAttributeKey.for_keyword_list("LosingCarrier")
CUSTOMER_NAME = SearchAttributeKey.for_keyword("CustomerName")
WAITING_ON = SearchAttributeKey.for_keyword("WaitingOn")
NEXT_DEADLINE = SearchAttributeKey.for_datetime("NextDeadline")
ESCALATED = SearchAttributeKey.for_bool("Escalated")
REQUEST_ID = SearchAttributeKey.for_keyword("PortRequestId")
# when the workflow entered its current PortStatus: "LOA unsigned for 5 days" is a query
STAGE_SINCE = SearchAttributeKey.for_datetime("StageSince")
# how many of an order's numbers still have nobody assigned (a count, never the numbers)
NUMBERS_UNASSIGNED = SearchAttributeKey.for_int("NumbersUnassigned")
# Support cases (SupportCaseWorkflow): priority and state; its next target is NextDeadline and
# an overdue one is Escalated, as for ports. Never customer data here.
CASE_PRIORITY = SearchAttributeKey.for_keyword("PortflowCasePriority")
CASE_STATE = SearchAttributeKey.for_keyword("PortflowCaseState")

# name -> type, as the dev server's --search-attribute flag and the operator API want them.
SEARCH_ATTRIBUTES: Mapping[str, str] = MappingProxyType({
    "PortStatus": "Keyword",
    "PortDate": "Datetime",
    "LosingCarrier": "KeywordList",
    "CustomerName": "Keyword",
    "WaitingOn": "Keyword",
    "NextDeadline": "Datetime",
    "Escalated": "Bool",
    "PortRequestId": "Keyword",
    "StageSince": "Datetime",
    "NumbersUnassigned": "Int",
    "PortflowCasePriority": "Keyword",
    "PortflowCaseState": "Keyword",
})

