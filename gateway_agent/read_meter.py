"""`read-meter`: the installer's tool to read the DSO meter through the box's port.

    read-meter --protocol linky-historic --serial /dev/ttyAMA0
    read-meter --protocol p1-be --file capture.txt --count 1
    cat capture.txt | read-meter --protocol p1-nl -
    read-meter --protocol smets2-cad --mqtt 192.168.1.20

One JSON line per reading on stdout; one line on stderr for each refused frame, saying which
and why, and a summary at the end. Exit status: 0 once the input is read (or --count frames
are), 2 for bad arguments or a source that cannot be opened, 1 when the source fails while
reading, 130 on Ctrl-C.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from itertools import islice
from typing import Any

from gateway_agent.meters import PROTOCOLS, FrameError, ReadStats, read_frames
from gateway_agent.meters.smets2 import GLOW_TOPIC
from gateway_agent.meters.sources import (
    SERIAL_DEFAULTS,
    MqttSource,
    open_file,
    open_serial,
    stream_chunks,
)
from gateway_agent.protocol import MeterReading


def main(argv: list[str]) -> int:
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:  # argparse: 2 for a usage error, 0 for --help
        return exit_.code if isinstance(exit_.code, int) else 2
    problem = _argument_problem(args)
    if problem:
        parser.print_usage(sys.stderr)
        _say(f"error: {problem}")
        return 2
    try:
        chunks, close = _open_source(args)
    except (OSError, ValueError) as error:  # pyserial says ValueError for bad settings
        _say(f"cannot open {_source_name(args)}: {error}")
        return 2
    try:
        return _read(args.protocol, chunks, args.count)
    finally:
        close()


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="read-meter",
        description="Read the DSO meter and print its readings as JSON lines.",
        epilog="serial defaults: "
        + ", ".join(f"{protocol} {settings}" for protocol, settings in SERIAL_DEFAULTS.items()),
    )
    parser.add_argument("--protocol", required=True, choices=PROTOCOLS)
    parser.add_argument("--file", metavar="PATH", help="a capture of the meter's output")
    parser.add_argument("--serial", metavar="DEVICE", help="a serial port or pyserial URL")
    parser.add_argument("--baud", type=_positive, help="override the protocol's serial speed")
    parser.add_argument("--mqtt", metavar="HOST[:PORT]", help="the CAD's MQTT broker")
    parser.add_argument("--topic", default=GLOW_TOPIC, help=f"MQTT topic (default {GLOW_TOPIC})")
    parser.add_argument(
        "--count", type=_positive, help="stop after this many frames (read or refused)"
    )
    parser.add_argument("stdin", nargs="?", choices=["-"], metavar="-", help="read stdin")
    return parser


def _positive(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text} is not a positive number")
    return value


def _argument_problem(args: argparse.Namespace) -> str | None:
    sources = [args.file, args.serial, args.mqtt, args.stdin]
    if sum(source is not None for source in sources) != 1:
        return "give exactly one source: --file PATH, --serial DEVICE, --mqtt HOST or -"
    if args.baud and not args.serial:
        return "--baud goes with --serial"
    if args.serial and args.protocol not in SERIAL_DEFAULTS:
        return f"{args.protocol} is not read from a serial port (use --mqtt, --file or -)"
    if args.mqtt and args.protocol != "smets2-cad":
        return "--mqtt reads a consumer access device: --protocol smets2-cad"
    return None


def _source_name(args: argparse.Namespace) -> str:
    return str(args.file or args.serial or args.mqtt or "standard input")


def _open_source(args: argparse.Namespace) -> tuple[Iterable[bytes], Callable[[], None]]:
    if args.file:
        chunks = open_file(args.file)
        return chunks, chunks.close
    if args.serial:
        settings = SERIAL_DEFAULTS[args.protocol]
        if args.baud:
            settings = dataclasses.replace(settings, baudrate=args.baud)
        port = open_serial(args.serial, settings)
        return port, port.close
    if args.mqtt:
        host, _, port_text = args.mqtt.partition(":")
        source = MqttSource(host, int(port_text or 1883), args.topic)
        return source, source.close
    return stream_chunks(sys.stdin.buffer), lambda: None


def _read(protocol: str, chunks: Iterable[bytes], count: int | None) -> int:
    stats = ReadStats()
    results = read_frames(protocol, chunks, now=lambda: datetime.now(UTC), stats=stats)
    try:
        _print_results(islice(results, count))
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `read-meter ... | head`: the reader left, not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except OSError as error:
        _say(f"the source failed while reading: {error}")
        return 1
    finally:
        _say(_summary(stats))
    return 0


def _print_results(results: Iterator[MeterReading | FrameError]) -> None:
    for result in results:
        if isinstance(result, FrameError):
            _say(str(result))
        else:
            print(reading_json(result), flush=True)


def reading_json(reading: MeterReading) -> str:
    """The normalised reading as one JSON line; optional fields only where the meter has them."""
    fields: dict[str, Any] = {
        "timestamp": reading.timestamp.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "meter_id": reading.meter_id,
        "import_wh": reading.import_wh,
        "export_wh": reading.export_wh,
        "import_w": reading.import_w,
        "export_w": reading.export_w,
    }
    if reading.voltage_v:
        fields["voltage_v"] = reading.voltage_v
    if reading.current_a:
        fields["current_a"] = reading.current_a
    if reading.tariff is not None:
        fields["tariff"] = reading.tariff
    return json.dumps(fields)


def _summary(stats: ReadStats) -> str:
    text = f"frames {stats.frames}, readings {stats.readings}, refused {stats.refused}"
    if stats.bad_groups or stats.repaired_groups:
        text += f"; TIC groups: {stats.bad_groups} bad, {stats.repaired_groups} repaired"
    return text


def _say(message: str) -> None:
    print(f"read-meter: {message}", file=sys.stderr, flush=True)
