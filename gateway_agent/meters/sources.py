"""Where the meter's bytes come from: a serial port, a file, a stream (stdin), an MQTT broker.

Every source opens when it is created, so that a missing device, file or broker fails at
once with an OSError, and then yields chunks of bytes for `read_frames`. pyserial and
paho-mqtt are imported only by the source that needs them.
"""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Literal

from gateway_agent.meters.smets2 import GLOW_TOPIC

CHUNK_SIZE = 4096


@dataclass(frozen=True, slots=True)
class SerialSettings:
    baudrate: int
    bytesize: Literal[7, 8]
    parity: Literal["N", "E"]
    stopbits: Literal[1] = 1

    def __str__(self) -> str:
        return f"{self.baudrate} {self.bytesize}{self.parity}{self.stopbits}"


# TIC: Enedis-NOI-CPT_02E / _54E. P1: DSMR 4 and 5, e-MUCS (DSMR 2.2/3 meters used 9600 7E1).
SERIAL_DEFAULTS: dict[str, SerialSettings] = {
    "p1-be": SerialSettings(115_200, 8, "N"),
    "p1-nl": SerialSettings(115_200, 8, "N"),
    "linky-historic": SerialSettings(1200, 7, "E"),
    "linky-standard": SerialSettings(9600, 7, "E"),
}


def stream_chunks(stream: BinaryIO, *, chunk_size: int = CHUNK_SIZE) -> Iterator[bytes]:
    """Chunks as soon as they arrive (read1 does not wait to fill the chunk on a pipe)."""
    read = getattr(stream, "read1", stream.read)
    while chunk := read(chunk_size):
        yield chunk


def open_file(path: str | Path, *, chunk_size: int = CHUNK_SIZE) -> Generator[bytes, None, None]:
    """Opens now (OSError if it cannot), reads lazily, closes at the end."""
    stream = Path(path).open("rb")  # noqa: SIM115 - closed by the generator below

    def chunks() -> Generator[bytes, None, None]:
        with stream:
            yield from stream_chunks(stream, chunk_size=chunk_size)

    return chunks()


def open_serial(device: str, settings: SerialSettings) -> Generator[bytes, None, None]:
    """A serial device, or any pyserial URL (socket://host:port for a ser2net bridge)."""
    import serial  # here: only the boxes reading a serial port load pyserial

    port = serial.serial_for_url(
        device,
        baudrate=settings.baudrate,
        bytesize=settings.bytesize,
        parity=settings.parity,
        stopbits=settings.stopbits,
        timeout=1.0,
    )

    def chunks() -> Generator[bytes, None, None]:
        with port:
            while True:
                chunk = port.read(max(1, port.in_waiting))
                if chunk:
                    yield chunk

    return chunks()


class MqttSource:
    """Messages from an MQTT topic, each as one line of bytes (JSON lines for smets2-cad).

    Connects in the constructor (OSError when the broker cannot be reached). Iterating stops
    after `max_messages`, or when no message came for `idle_timeout` seconds.
    """

    def __init__(
        self,
        host: str,
        port: int = 1883,
        topic: str = GLOW_TOPIC,
        *,
        idle_timeout: float | None = None,
        max_messages: int | None = None,
        connect_timeout: float = 10.0,
    ) -> None:
        import paho.mqtt.client as mqtt  # here: ~11 MB, only CAD boxes pay for it

        self._topic = topic
        self._idle_timeout = idle_timeout
        self._max_messages = max_messages
        self._messages: queue.Queue[bytes] = queue.Queue(maxsize=1000)
        self.subscribed = threading.Event()
        self._client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
        self._client.on_connect = self._on_connect
        self._client.on_subscribe = self._on_subscribe
        self._client.on_message = self._on_message
        self._client.connect(host, port, keepalive=60)
        self._client.loop_start()
        if not self.subscribed.wait(connect_timeout):
            self.close()
            raise TimeoutError(f"MQTT broker {host}:{port} did not confirm the subscription")

    def _on_connect(self, client: Any, _userdata: Any, _flags: Any, reason: Any, _p: Any) -> None:
        if not reason.is_failure:
            client.subscribe(self._topic)

    def _on_subscribe(self, *_args: Any) -> None:
        self.subscribed.set()

    def _on_message(self, _client: Any, _userdata: Any, message: Any) -> None:
        # One message, one line: JSON allows no raw newline inside a string.
        line = bytes(message.payload).replace(b"\r", b" ").replace(b"\n", b" ") + b"\n"
        with contextlib.suppress(queue.Full):  # the reader fell behind: the next has newer totals
            self._messages.put_nowait(line)

    def __iter__(self) -> Iterator[bytes]:
        received = 0
        while self._max_messages is None or received < self._max_messages:
            try:
                yield self._messages.get(timeout=self._idle_timeout)
            except queue.Empty:
                return
            received += 1

    def close(self) -> None:
        self._client.loop_stop()
        self._client.disconnect()

    def __enter__(self) -> MqttSource:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()
