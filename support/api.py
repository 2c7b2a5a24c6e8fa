"""JSON API for support tickets: a player sees only their own; staff see all. 404 (not 403) for others'."""

from __future__ import annotations

from django.utils.decorators import method_decorator
from django_ratelimit.decorators import ratelimit
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import permissions, serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import ErrorSerializer
from core.errors import NotFound
from core.models import AuditEntry
from core.pagination import LimitOffsetPagination
from support import selectors, services
from support.models import SupportTicket, TicketMessage

# Documented in docs/support.md.
TICKET_RATE = "5/h"
MESSAGE_RATE = "30/m"
ERRORS = {
    400: OpenApiResponse(ErrorSerializer, description="Bad input"),
    401: OpenApiResponse(ErrorSerializer, description="Sign in first"),
    404: OpenApiResponse(ErrorSerializer, description="No such ticket (or not yours)"),
    429: OpenApiResponse(ErrorSerializer, description="Too many requests"),
}


class MessageSerializer(serializers.ModelSerializer):
    author = serializers.CharField(source="author.public_name", read_only=True)
    signature = serializers.CharField(read_only=True)

    class Meta:
        model = TicketMessage
        fields = ["id", "author", "signature", "body", "is_staff_reply", "created_at"]
        read_only_fields = ["id", "author", "signature", "is_staff_reply", "created_at"]


class TicketSerializer(serializers.ModelSerializer):
    class Meta:
        model = SupportTicket
        fields = ["id", "subject", "description", "priority", "status", "created_at", "updated_at"]
        read_only_fields = ["id", "status", "created_at", "updated_at"]


class TicketDetailSerializer(TicketSerializer):
    messages = MessageSerializer(many=True, read_only=True)

    class Meta(TicketSerializer.Meta):
        fields = [*TicketSerializer.Meta.fields, "messages"]


class NewMessageSerializer(serializers.Serializer):
    body = serializers.CharField(max_length=5000)


def _ticket(request, ticket_id: int) -> SupportTicket:
    ticket = selectors.ticket_visible_to(request.user).filter(pk=ticket_id).first()
    if ticket is None:
        raise NotFound(f"Ticket {ticket_id} does not exist.")
    return ticket


@method_decorator(
    ratelimit(group="ticket-open", key="user_or_ip", rate=TICKET_RATE, method="POST", block=True), name="post"
)
class TicketListView(ListAPIView):
    """Your tickets (all tickets for staff), newest activity first; POST opens one."""

    permission_classes = [permissions.IsAuthenticated]
    serializer_class = TicketSerializer

    def get_queryset(self):
        return selectors.ticket_visible_to(self.request.user).order_by("-updated_at", "-pk")

    @extend_schema(responses={200: TicketSerializer(many=True), 400: ERRORS[400], 401: ERRORS[401]})
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(request=TicketSerializer, responses={201: TicketSerializer, **ERRORS})
    def post(self, request):
        body = TicketSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        ticket = services.ticket_open(request.user, **body.validated_data)
        return Response(TicketSerializer(ticket).data, status=status.HTTP_201_CREATED)


class TicketDetailView(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(responses={200: TicketDetailSerializer, 401: ERRORS[401], 404: ERRORS[404]})
    def get(self, request, ticket_id: int):
        ticket = _ticket(request, ticket_id)
        ticket = SupportTicket.objects.prefetch_related("messages__author").get(pk=ticket.pk)
        return Response(TicketDetailSerializer(ticket).data)


@method_decorator(
    ratelimit(group="ticket-message", key="user_or_ip", rate=MESSAGE_RATE, method="POST", block=True), name="post"
)
class TicketMessageView(APIView):
    """The thread, oldest first, a page at a time (the live thread's snapshot carries only the latest messages);
    POST replies. Whether it is a staff reply is decided by the server (any client field is ignored)."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        parameters=[
            OpenApiParameter("limit", {"type": "integer", "minimum": 1, "maximum": 100, "default": 25}),
            OpenApiParameter("offset", {"type": "integer", "minimum": 0, "maximum": 10_000_000, "default": 0}),
        ],
        responses={200: MessageSerializer(many=True), 400: ERRORS[400], 401: ERRORS[401], 404: ERRORS[404]},
    )
    def get(self, request, ticket_id: int):
        ticket = _ticket(request, ticket_id)
        paginator = LimitOffsetPagination()
        thread = TicketMessage.objects.filter(ticket=ticket).select_related("author").order_by("created_at", "pk")
        page = paginator.paginate_queryset(thread, request, view=self)
        return paginator.get_paginated_response(MessageSerializer(page, many=True).data)

    @extend_schema(request=NewMessageSerializer, responses={201: MessageSerializer, **ERRORS})
    def post(self, request, ticket_id: int):
        ticket = _ticket(request, ticket_id)
        body = NewMessageSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        message = services.ticket_message_post(
            ticket, request.user, body.validated_data["body"], source=AuditEntry.Source.API
        )
        return Response(MessageSerializer(message).data, status=status.HTTP_201_CREATED)
