"""A minimal, fast loopback SMTP sink for benchmarks: accepts everything, stores nothing."""

from __future__ import annotations

import asyncio
import sys


class Sink(asyncio.Protocol):
    """Line-based SMTP without PIPELINING; DATA is consumed until CRLF.CRLF."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.t = transport  # type: ignore[assignment]
        self.buf = b""
        self.in_data = False
        self.t.write(b"220 sink ESMTP\r\n")  # type: ignore[attr-defined]

    def data_received(self, data: bytes) -> None:
        self.buf += data
        while True:
            if self.in_data:
                end = self.buf.find(b"\r\n.\r\n")
                if end < 0:
                    # keep the tail in case the terminator straddles two reads
                    return
                self.buf = self.buf[end + 5:]
                self.in_data = False
                self.t.write(b"250 2.0.0 queued\r\n")  # type: ignore[attr-defined]
                continue
            nl = self.buf.find(b"\r\n")
            if nl < 0:
                return
            line, self.buf = self.buf[:nl], self.buf[nl + 2:]
            self._command(line[:4].upper())

    def _command(self, verb: bytes) -> None:
        w = self.t.write  # type: ignore[attr-defined]
        if verb == b"EHLO":
            w(b"250-sink\r\n250-8BITMIME\r\n250 SIZE 52428800\r\n")
        elif verb == b"DATA":
            self.in_data = True
            w(b"354 go ahead\r\n")
        elif verb == b"QUIT":
            w(b"221 bye\r\n")
            self.t.close()
        else:
            w(b"250 OK\r\n")


async def serve(port: int) -> None:
    server = await asyncio.get_running_loop().create_server(Sink, "127.0.0.1", port)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(serve(int(sys.argv[1])))
