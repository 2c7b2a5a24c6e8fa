"""The channel layer the web processes use: channels-redis's pub/sub layer, decoding each message once.

channels-redis's pub/sub layer receives one copy of a group message per process and puts that same payload in the
queue of every local socket of the group; each socket then decoded it again (msgpack). Here the last payload
decoded is remembered, so a group event is decoded once per process, and every socket of the group receives the
same message object: consumers read it and must not change it (`core.consumers.StreamConsumer` does not).
"""

from __future__ import annotations

from channels_redis.pubsub import RedisPubSubChannelLayer


class PubSubChannelLayer(RedisPubSubChannelLayer):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # (payload, message) in one tuple, replaced whole, so another thread never pairs one's payload with
        # another's message. The payload is held, so it cannot be freed and its address taken by a new payload.
        self._last: tuple[bytes | None, dict | None] = (None, None)

    def deserialize(self, message: bytes) -> dict:
        payload, decoded = self._last
        if message is payload:
            return decoded
        decoded = super().deserialize(message)
        self._last = (message, decoded)
        return decoded

    async def channel_forget(self, channel: str) -> None:
        """Drop a channel's queue and its subscription, as channels-redis does when a receive on it is cancelled
        (core.consumers calls this when a consumer ends, however it ended)."""
        layer = self._get_layer()
        if layer.channels.pop(channel, None) is not None:
            await layer._get_shard(channel).unsubscribe(channel)
