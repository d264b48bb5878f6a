"""A local Telnyx Porting Orders v2 for tests: a FastAPI app served over real HTTP on 127.0.0.1."""

from tests.telnyx_standin.app import TelnyxStandIn
from tests.telnyx_standin.server import serve

__all__ = ["TelnyxStandIn", "serve"]
