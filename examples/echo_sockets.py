"""Echo server and client over blocking sockets with framekit.sockets.

python examples/echo_sockets.py server 9000      # serve (one client at a time)
python examples/echo_sockets.py client 9000      # send a few frames, print the echoes
python examples/echo_sockets.py                  # both, the server in a thread
"""

from __future__ import annotations

import socket
import sys
import threading

import framekit
from framekit.sockets import iter_frames, send_frame, send_frames


def serve(listener: socket.socket) -> None:
    while True:
        conn, _ = listener.accept()
        with conn:
            encoder = framekit.LengthFieldEncoder()
            for frame in iter_frames(conn, framekit.LengthFieldDecoder()):
                send_frame(conn, encoder, frame)  # recv_into in, sendmsg out: no copies


def client(port: int) -> None:
    with socket.create_connection(("127.0.0.1", port)) as sock:
        send_frames(sock, framekit.LengthFieldEncoder(), [b"hello", b"framed", b"world"])
        send_frame(sock, framekit.LengthFieldEncoder(), bytes(1 << 20))
        sock.shutdown(socket.SHUT_WR)
        for frame in iter_frames(sock, framekit.LengthFieldDecoder()):
            print(f"echo: {len(frame)} bytes {bytes(frame[:16])!r}")


def main(argv: list[str]) -> None:
    port = int(argv[2]) if len(argv) > 2 else 0
    if argv[1:2] == ["client"]:
        client(port)
        return
    listener = socket.create_server(("127.0.0.1", port))
    if argv[1:2] == ["server"]:
        print("serving on", listener.getsockname())
        serve(listener)
    threading.Thread(target=serve, args=(listener,), daemon=True).start()
    client(listener.getsockname()[1])


if __name__ == "__main__":
    main(sys.argv)
