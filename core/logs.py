"""Log lines that can be followed: every line carries the id of the request (or task) it belongs to, and a
request's id travels into the Celery tasks it enqueues (a message header), so one id finds everything that one
click caused. In production each line is one JSON object (python-json-logger); in embedded mode plain text.

Incoming `X-Request-ID` (from a proxy) is kept when it looks like an id; the response carries it back.
"""

from __future__ import annotations

import contextvars
import logging
import re
import uuid

from django.http import HttpRequest, HttpResponse

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="")
HEADER = "request_id"  # the Celery message header
REQUEST_ID_HEADER = "X-Request-ID"  # read from the proxy and sent back (also by goatedvips.fastpath)
_VALID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


class RequestIdFilter(logging.Filter):
    """Adds `request_id` to every record ("" outside a request or task)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        return True


def request_id_for(incoming: str) -> str:
    """The id a request is known by: the proxy's `X-Request-ID` when it looks like one, else a new one."""
    return incoming if _VALID.match(incoming) else uuid.uuid4().hex


class RequestIdMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = request_id_for(request.headers.get(REQUEST_ID_HEADER, ""))
        request.request_id = request_id
        token = request_id_var.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            request_id_var.reset(token)
        response[REQUEST_ID_HEADER] = request_id
        return response


# --- Celery: the id rides along with each task message ---------------------------------------------------------


def task_request_id_connect() -> None:
    from celery.signals import before_task_publish, task_postrun, task_prerun

    before_task_publish.connect(_publish, weak=False, dispatch_uid="core.logs.publish")
    task_prerun.connect(_prerun, weak=False, dispatch_uid="core.logs.prerun")
    task_postrun.connect(_postrun, weak=False, dispatch_uid="core.logs.postrun")


_tokens: dict[str, contextvars.Token] = {}


def _publish(headers=None, **_kwargs) -> None:
    current = request_id_var.get()
    if headers is not None and current and not headers.get(HEADER):
        headers[HEADER] = current


def _prerun(task_id=None, task=None, **_kwargs) -> None:
    inherited = getattr(task.request, HEADER, None) if task is not None else None
    if task is not None and task.request.is_eager and not inherited:
        return  # run in process, inside the request: the id is already set
    _tokens[task_id] = request_id_var.set(inherited or f"task-{task_id}")


def _postrun(task_id=None, **_kwargs) -> None:
    token = _tokens.pop(task_id, None)
    if token is not None:
        request_id_var.reset(token)
