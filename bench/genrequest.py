"""A big valid request file: ``python -m bench.genrequest OUT.yaml [ACCOUNTS] [NUMBERS] [FIRST_BLOCK]``.

Each account has its own block of valid NANP numbers (one area code and exchange, written
one per line in national notation, as a PM pastes them), a BTN among them, and a full
port; the port date is the first business day 30+ days ahead, so the check passes.
"""

from __future__ import annotations

import sys
from datetime import UTC, date, datetime
from pathlib import Path

import yaml

from bench.ports import number_block, port_date_ahead


def request_data(accounts: int, numbers: int, *, first_block: int = 0, request_id: str | None = None,
                 today: date | None = None) -> dict[str, object]:
    accts = []
    for i in range(accounts):
        tns = number_block(first_block + i, numbers)
        national = [f"({t[2:5]}) {t[5:8]}-{t[8:]}" for t in tns]
        accts.append({
            "carrier": ["Lumen", "Verizon", "AT&T", "Comcast Business"][i % 4],
            "account_number": f"7731-{i:04d}-29",
            "pin": f"{4417 + i}",
            "btn": national[0],
            "service_address": {"street": f"{100 + i} W Madison St", "city": "Chicago", "state": "IL",
                                "postal_code": "60606"},
            "port_type": "full",
            "numbers": national,
        })
    data: dict[str, object] = {
        "customer": {"name": "Bench Big Customer", "language": "en"},
        "contact": {"name": "Dana Whitfield", "email": "dana@bench.example", "phone": "(312) 555-0142"},
        "signer": {"name": "Robert Okafor", "title": "CFO", "email": "robert@bench.example"},
        "requested_port_date": port_date_ahead(30, today or datetime.now(UTC).date()).isoformat(),
        "activation_time": "10:00",
        "time_zone": "America/Chicago",
        "accounts": accts,
    }
    if request_id:
        data = {"id": request_id, **data}
    return data


def write(path: Path, accounts: int, numbers: int, **kw: object) -> Path:
    path.write_text(yaml.safe_dump(request_data(accounts, numbers, **kw), sort_keys=False, width=200))
    return path


if __name__ == "__main__":
    out, *rest = sys.argv[1:]
    sizes = [int(x) for x in rest] + [10, 1000, 0][len(rest):]
    print(write(Path(out), sizes[0], sizes[1], first_block=sizes[2]))
