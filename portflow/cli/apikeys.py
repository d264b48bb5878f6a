"""``starter.py apikey``: the keys of the REST API (``/v1``, issue 16).

    python starter.py apikey create --owner dana@provider.example --role pm
    python starter.py apikey list
    python starter.py apikey revoke 3f9a0c1d2e4b

``create`` prints the key once (only its hash is stored: a lost key is revoked and replaced).
The owner is the actor recorded on a port's timeline for everything done with the key.
Roles: ``pm`` (everything), ``ops`` (read, check, carrier events, verify, activate),
``read`` (read and check). Light at import: the store is imported when a command runs.
"""

from __future__ import annotations

from typing import Annotated

import typer

from portflow.cli.common import console, done, fail

app = typer.Typer(help="API keys of the REST API (/v1): create, list, revoke", no_args_is_help=True)


@app.command("create")
def create(
    owner: Annotated[str, typer.Option("--owner", metavar="EMAIL", help="Who uses it: the actor on the timeline")],
    role: Annotated[str, typer.Option("--role", metavar="pm|ops|read", help="What it may do")] = "read",
) -> None:
    """Create a key and print it once (only its hash is kept)."""
    from store.api_keys import ApiKeyError, create_key

    try:
        info, token = create_key(owner, role)
    except ApiKeyError as err:
        fail(str(err))
    done(f"API key {info.id} for {info.owner}, role {info.role}. Store it now: it is not shown again.")
    print(token)


@app.command("list")
def list_keys(
    active: Annotated[bool, typer.Option("--active", help="Only keys not revoked")] = False,
) -> None:
    """The keys: id, owner, role, created, last used, revoked (never the secret)."""
    from rich.table import Table

    from store.api_keys import list_keys as keys

    rows = keys(include_revoked=not active)
    if not rows:
        console().print("no API keys yet: `python starter.py apikey create --owner EMAIL --role pm`")
        return
    table = Table("id", "owner", "role", "created (UTC)", "last used (UTC)", "revoked (UTC)")
    for k in rows:
        table.add_row(k.id, k.owner, k.role, f"{k.created_at:%Y-%m-%d %H:%M}",
                      f"{k.last_used_at:%Y-%m-%d %H:%M}" if k.last_used_at else "-",
                      f"{k.revoked_at:%Y-%m-%d %H:%M}" if k.revoked_at else "-")
    console().print(table)


@app.command("revoke")
def revoke(key_id: Annotated[str, typer.Argument(metavar="ID", help="The key's id (see `apikey list`)")]) -> None:
    """Revoke a key: every call with it is refused (401) from now on."""
    from store.api_keys import ApiKeyError, revoke_key

    try:
        info = revoke_key(key_id)
    except ApiKeyError as err:
        fail(str(err))
    done(f"API key {info.id} ({info.owner}, {info.role}) revoked at {info.revoked_at:%Y-%m-%d %H:%M} UTC")


def register(main: typer.Typer) -> None:
    main.add_typer(app, name="apikey")
