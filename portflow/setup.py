"""``starter.py setup``: what a fresh namespace needs before the first port, done idempotently.

1. portflow's database schema (``store.db.migrate``);
2. the search attributes of ``workflows/search.py`` (an unregistered one fails every workflow
   task that sets it, forever), added through the operator API;
3. the reminder sweep's schedule (``portflow/schedules.py``).

Run again, it changes nothing and says so. On Temporal Cloud the operator API cannot add
search attributes (Cloud's own tools do: ``tcld`` or the Cloud UI), so setup lists what is
missing with the exact command, does the rest, and ends refused until they exist.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest, ListSearchAttributesRequest
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from core.settings import Settings, get_settings
from workflows.search import SEARCH_ATTRIBUTES

CLOUD_HOSTS = (".tmprl.cloud", ".api.temporal.io")
_TYPES = {name: getattr(IndexedValueType, f"INDEXED_VALUE_TYPE_{_kind}")
          for name, _kind in ((n, {"KeywordList": "KEYWORD_LIST"}.get(k, k.upper())) for n, k in SEARCH_ATTRIBUTES.items())}
_TYPE_NAMES = {v: k for k, v in IndexedValueType.items()}


class SetupProblem(Exception):
    """What a person must do before setup can finish; the message says what."""


@dataclass
class SetupReport:
    added: list[str] = field(default_factory=list)
    present: list[str] = field(default_factory=list)
    missing_on_cloud: list[str] = field(default_factory=list)
    cloud_command: str = ""
    schedule: str = ""


def on_cloud(s: Settings) -> bool:
    host = s.temporal_address.rsplit(":", 1)[0].lower()
    return host.endswith(CLOUD_HOSTS)


def cloud_command(s: Settings, names: list[str]) -> str:
    flags = " ".join(f"--sa '{n}={SEARCH_ATTRIBUTES[n]}'" for n in names)
    return f"tcld namespace search-attributes add --namespace {s.temporal_namespace} {flags}"


async def search_attributes(client: Client, s: Settings, report: SetupReport) -> None:
    ns = s.temporal_namespace
    try:
        existing = dict((await client.operator_service.list_search_attributes(
            ListSearchAttributesRequest(namespace=ns))).custom_attributes)
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            raise SetupProblem(f"namespace {ns!r} does not exist on {s.temporal_address}: create it first "
                               f"(`temporal operator namespace create -n {ns}`, or in Temporal Cloud's UI)") from None
        if not on_cloud(s):
            raise
        existing = {}  # Cloud may refuse to list to this key: then every attribute is reported
    wrong = [f"{n} is {_TYPE_NAMES.get(existing[n], existing[n]).removeprefix('INDEXED_VALUE_TYPE_')}, not "
             f"{SEARCH_ATTRIBUTES[n]}" for n in SEARCH_ATTRIBUTES if n in existing and existing[n] != _TYPES[n]]
    if wrong:
        raise SetupProblem(f"search attributes of the wrong type in namespace {ns!r}: {'; '.join(wrong)}. A type "
                           "cannot change: remove them (`temporal operator search-attribute remove`) on a namespace "
                           "with no ports, or use a new namespace")
    report.present = [n for n in SEARCH_ATTRIBUTES if n in existing]
    missing = [n for n in SEARCH_ATTRIBUTES if n not in existing]
    if not missing:
        return
    if on_cloud(s):
        report.missing_on_cloud, report.cloud_command = missing, cloud_command(s, missing)
        return
    try:
        await client.operator_service.add_search_attributes(AddSearchAttributesRequest(
            namespace=ns, search_attributes={n: _TYPES[n] for n in missing}))
    except RPCError as exc:
        if exc.status in (RPCStatusCode.PERMISSION_DENIED, RPCStatusCode.UNIMPLEMENTED):
            report.missing_on_cloud, report.cloud_command = missing, cloud_command(s, missing)
            return
        raise
    report.added = missing


async def setup(client: Client, settings: Settings | None = None, *, migrate_db: bool = True) -> SetupReport:
    from portflow import schedules

    s = settings or get_settings()
    if migrate_db:
        from store.db import migrate

        migrate()
    report = SetupReport()
    await search_attributes(client, s, report)
    try:
        result = await schedules.sync_schedule(client, s)
        report.schedule = f"schedule {result.schedule_id} {result.outcome}: {result.when}"
    except schedules.ScheduleProblem as problem:
        raise SetupProblem(str(problem)) from problem
    return report
