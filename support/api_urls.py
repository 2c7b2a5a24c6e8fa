from django.urls import path

from support import api

urlpatterns = [
    path("support/tickets/", api.TicketListView.as_view(), name="ticket-list"),
    path("support/tickets/<int:ticket_id>/", api.TicketDetailView.as_view(), name="ticket-detail"),
    path("support/tickets/<int:ticket_id>/messages/", api.TicketMessageView.as_view(), name="ticket-messages"),
]
