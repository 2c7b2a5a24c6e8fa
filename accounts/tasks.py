"""Periodic work of accounts (thin: the rules are in the services)."""

from __future__ import annotations

from celery import shared_task

from accounts.selfexclusion import self_exclusion_end_announce


@shared_task(name="accounts.self_exclusion_end_announce")
def self_exclusion_end_announce_task() -> int:
    return self_exclusion_end_announce()
