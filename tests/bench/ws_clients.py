"""A WebSocket client process of the real-time benchmarks (``push``, ``sockets``).

``python -m tests.bench.ws_clients PORT TOKENS_JSON OUT_JSON [--record] [--concurrency N]``

Opens one ``/ws/queue/?token=`` socket per token (tokens may repeat: several tabs of
one user), waits for each ``hello``, prints ``ready <opened> <failed>`` on stdout,
then holds the sockets (answering the heartbeat like the browser module does) until
a line arrives on stdin. With ``--record`` every ``queue.event`` is stamped with the
wall clock as it is read: (socket, ticket id, version, time). Results go to OUT_JSON.

It runs in its own process so that its CPU and memory are not the server's; it uses
uvloop when installed, like uvicorn does.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
import time
from typing import Any

import websockets

HELLO_TIMEOUT = 60.0


class Clients:
    def __init__(self, port: int, record: bool) -> None:
        self.url = f"ws://127.0.0.1:{port}/ws/queue/"
        self.record = record
        self.sockets: list[Any] = []
        self.hello: dict[int, dict[str, Any]] = {}
        self.receipts: list[tuple[int, int, int, float]] = []
        self.notifications = 0
        self.other: dict[str, int] = {}
        self.errors: list[str] = []
        self.closed_early = 0
        self.tasks: list[asyncio.Task[None]] = []

    async def open(self, index: int, token: str, gate: asyncio.Semaphore) -> bool:
        async with gate:
            try:
                ws = await websockets.connect(
                    f"{self.url}?token={token}",
                    open_timeout=HELLO_TIMEOUT,
                    max_queue=None,
                    compression=None,
                )
                hello = json.loads(await asyncio.wait_for(ws.recv(), HELLO_TIMEOUT))
            except Exception as exc:  # counted and reported, never fatal
                self.errors.append(f"socket {index}: {exc!r}"[:200])
                return False
        if hello.get("type") != "hello":
            self.errors.append(f"socket {index}: first message {hello!r}"[:200])
            await ws.close()
            return False
        self.hello[index] = hello
        self.sockets.append(ws)
        self.tasks.append(asyncio.create_task(self.listen(index, ws, int(hello["heartbeat"]))))
        return True

    async def listen(self, index: int, ws: Any, heartbeat: int) -> None:
        pinger = asyncio.create_task(self.ping(ws, heartbeat))
        try:
            async for raw in ws:
                now = time.time()
                if not self.record:
                    continue
                message = json.loads(raw)
                kind = message.get("type")
                if kind == "queue.event":
                    self.receipts.append(
                        (index, int(message["object"]["object_id"]), int(message["version"]), now)
                    )
                elif kind == "notification":
                    self.notifications += 1
                else:
                    self.other[str(kind)] = self.other.get(str(kind), 0) + 1
        except websockets.ConnectionClosed:
            pass
        finally:
            pinger.cancel()
        if not self.stopping:
            self.closed_early += 1

    stopping = False

    @staticmethod
    async def ping(ws: Any, heartbeat: int) -> None:
        with contextlib.suppress(websockets.ConnectionClosed, asyncio.CancelledError):
            while True:
                await asyncio.sleep(heartbeat)
                await ws.send('{"type": "ping"}')

    async def close_all(self) -> None:
        self.stopping = True
        await asyncio.gather(*(ws.close() for ws in self.sockets), return_exceptions=True)
        await asyncio.gather(*self.tasks, return_exceptions=True)


async def main(args: argparse.Namespace) -> None:
    with open(args.tokens) as fh:
        tokens: list[str] = json.load(fh)
    clients = Clients(args.port, args.record)
    gate = asyncio.Semaphore(args.concurrency)
    started = time.monotonic()
    opened = await asyncio.gather(*(clients.open(i, t, gate) for i, t in enumerate(tokens)))
    took = time.monotonic() - started
    print(f"ready {sum(opened)} {len(opened) - sum(opened)} {took:.2f}", flush=True)
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, sys.stdin.readline)
    await clients.close_all()
    result = {
        "opened": sum(opened),
        "failed": len(opened) - sum(opened),
        "open_seconds": took,
        "groups": {str(i): h.get("groups", []) for i, h in clients.hello.items()},
        "users": {str(i): h.get("user") for i, h in clients.hello.items()},
        "receipts": clients.receipts,
        "notifications": clients.notifications,
        "other": clients.other,
        "closed_early": clients.closed_early,
        "errors": clients.errors[:20],
    }
    with open(args.out, "w") as fh:
        json.dump(result, fh)


def cli() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("port", type=int)
    parser.add_argument("tokens")
    parser.add_argument("out")
    parser.add_argument("--record", action="store_true")
    parser.add_argument("--concurrency", type=int, default=50)
    args = parser.parse_args()
    try:
        import uvloop

        uvloop.run(main(args))
    except ImportError:
        asyncio.run(main(args))


if __name__ == "__main__":
    cli()
