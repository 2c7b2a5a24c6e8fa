"""A small round-robin TCP proxy for the local scaled topology (`make run-scaled`): one port in front of several
web processes. Each connection (an HTTP keep-alive connection or a WebSocket) goes to the next backend that
accepts it, and its bytes are relayed both ways until either side closes. Not for production: use a real load
balancer there (docs/operations.md)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import logging

logger = logging.getLogger("tcp_proxy")


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, asyncio.CancelledError):
        pass
    finally:
        with contextlib.suppress(RuntimeError):
            writer.close()


async def serve(listen: tuple[str, int], backends: list[tuple[str, int]]) -> None:
    turn = itertools.cycle(range(len(backends)))

    async def handle(client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        for _ in backends:  # the next backend that accepts
            host, port = backends[next(turn)]
            try:
                upstream_reader, upstream_writer = await asyncio.open_connection(host, port)
                break
            except OSError:
                logger.warning("backend %s:%s refused a connection", host, port)
        else:
            client_writer.close()
            return
        await asyncio.gather(_pipe(client_reader, upstream_writer), _pipe(upstream_reader, client_writer))

    server = await asyncio.start_server(handle, *listen, backlog=1024)
    logger.warning("proxy on %s:%s → %s", *listen, ", ".join(f"{h}:{p}" for h, p in backends))
    async with server:
        await server.serve_forever()


def _address(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    return host or "127.0.0.1", int(port)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--listen", type=_address, default=("127.0.0.1", 8000))
    parser.add_argument("--to", type=_address, action="append", required=True, help="a backend host:port")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    asyncio.run(serve(args.listen, args.to))


if __name__ == "__main__":
    main()
