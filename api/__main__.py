"""``python -m api``: the HTTP service on ``PORTFLOW_API_HOST``:``PORTFLOW_API_PORT``.

The same app as ``uvicorn --factory api.app:create_app`` (which takes its own --host and
--port); this entry point reads them from the settings, like the worker does.
"""

from __future__ import annotations

import uvicorn

from core.settings import get_settings


def main() -> None:
    s = get_settings()
    uvicorn.run("api.app:create_app", factory=True, host=s.api_host, port=s.api_port, log_level="info")


if __name__ == "__main__":
    main()
