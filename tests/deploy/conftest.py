from tests.local_servers import dev_env  # noqa: F401 - the session's dev server fixture, for starter.py setup
