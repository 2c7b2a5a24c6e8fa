from decimal import Decimal

import pytest

from tests.factories import WheelSegmentFactory
from vip.models import WheelSegment


@pytest.fixture
def segments():
    WheelSegment.objects.all().delete()
    return [
        WheelSegmentFactory(position=0, label="Try again", weight=70, reward_amount=Decimal("0")),
        WheelSegmentFactory(position=1, label="$1", weight=25, reward_amount=Decimal("1")),
        WheelSegmentFactory(position=2, label="$10", weight=5, reward_amount=Decimal("10")),
    ]
