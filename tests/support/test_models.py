import pytest
from django.db import IntegrityError, transaction

from tests.factories import SupportTicketFactory, TicketMessageFactory


@pytest.mark.django_db
@pytest.mark.parametrize(("field", "value"), [("status", "resolved"), ("priority", "urgent")])
def test_ticket_status_and_priority_must_be_known_values(field, value):
    with pytest.raises(IntegrityError), transaction.atomic():
        SupportTicketFactory(**{field: value})


@pytest.mark.django_db
def test_ticket_messages_read_in_order():
    ticket = SupportTicketFactory()
    first = TicketMessageFactory(ticket=ticket, body="first")
    second = TicketMessageFactory(ticket=ticket, body="second")
    assert list(ticket.messages.all()) == [first, second]
    assert not first.is_staff_reply
