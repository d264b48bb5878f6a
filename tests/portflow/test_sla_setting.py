"""PORTFLOW_SLA_HOURS: settings check its shape, the client checks the status names."""

from __future__ import annotations

import pytest

from core.settings import Settings
from portflow.ports import PortRefused, options_from_settings, sla_hours_by_status


def test_settings_normalise_names_and_refuse_less_than_an_hour() -> None:
    assert Settings(sla_hours={" loa_sent ": 5}).sla_hours == {"LOA_SENT": 5}
    with pytest.raises(ValueError, match="at least 1 hour"):
        Settings(sla_hours={"LOA_SENT": 0})


def test_the_workflow_sees_status_values() -> None:
    assert sla_hours_by_status({"LOA_SENT": 120, "EXCEPTION": 48}) == {"loa_sent": 120, "exception": 48}


def test_a_name_that_is_not_a_status_is_refused_before_a_port_starts() -> None:
    with pytest.raises(PortRefused, match="'LOA_SEND' is not a port status"):
        options_from_settings(Settings(sla_hours={"loa_send": 1}))
