"""The frozen clock of the flag queue tests. Every service gets `now` explicitly; the clock
is frozen too, so that nothing can read a different time."""

from datetime import datetime

import pytest


@pytest.fixture
def clock(time_machine):
    """Freeze the clock at an instant and hand it back, to pass on as `now`."""

    def move_to(when: datetime) -> datetime:
        time_machine.move_to(when, tick=False)
        return when

    return move_to
