"""A WebSocket client that stops reading, as a frozen browser tab or a stuck integration."""

from __future__ import annotations

import asyncio
import socket
from typing import Any

from websockets.client import ClientProtocol
from websockets.protocol import State
from websockets.uri import parse_uri


class StalledClient:
    """A WebSocket client on a raw socket with a tiny receive buffer that stops reading after
    the handshake, as a frozen browser tab or a stuck integration would."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, proto: Any):
        self.reader, self.writer, self.proto = reader, writer, proto

    @classmethod
    async def connect(cls, url: str) -> StalledClient:
        uri = parse_uri(url)
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.connect((uri.host, uri.port))
        sock.setblocking(False)
        reader, writer = await asyncio.open_connection(sock=sock, limit=4096)
        proto = ClientProtocol(uri, max_size=None)
        proto.send_request(proto.connect())
        writer.write(b"".join(proto.data_to_send()))
        while proto.state is State.CONNECTING:
            proto.receive_data(await reader.read(4096))
        assert proto.handshake_exc is None
        return cls(reader, writer, proto)

    async def read_to_end(self) -> tuple[int | None, bytes]:
        """Read until the connection ends: the close code received (None: none, the
        transport was dropped) and how it ended (b"" EOF, b"reset" reset)."""
        try:
            while self.proto.close_rcvd is None:
                data = await asyncio.wait_for(self.reader.read(1 << 16), 30)
                if not data:
                    return None, b""
                self.proto.receive_data(data)
                self.proto.events_received()
        except ConnectionResetError:
            return None, b"reset"
        return self.proto.close_rcvd.code, b"close"

    async def read_to_close(self) -> int | None:
        """Now read everything; the close code the server sent, if any."""
        while self.proto.close_rcvd is None:
            data = await asyncio.wait_for(self.reader.read(1 << 16), 10)
            if not data:
                break
            self.proto.receive_data(data)
            self.proto.events_received()
        return self.proto.close_rcvd.code if self.proto.close_rcvd else None

    def close(self) -> None:
        self.writer.close()
