"""Fixtures of the bot tests: updates fed to the real aiogram Dispatcher, which calls the fake Bot API server."""

from __future__ import annotations

import asyncio

import pytest

from telegram_bot.bot import bot_create, dispatcher_create


@pytest.fixture(autouse=True)
def _ratelimit_held(ratelimit_clock):
    """Bot tests send bursts of updates against per-minute and per-5-seconds limits: the limiter's clock is held."""
    return ratelimit_clock


@pytest.fixture
def feed_updates():
    dp = dispatcher_create()

    async def run(updates):
        bot = bot_create()
        try:
            for update in updates:
                await dp.feed_raw_update(bot, update)
        finally:
            await bot.session.close()

    return lambda *updates: asyncio.run(run(updates))
