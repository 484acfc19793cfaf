"""Properties of every reader: any bytes in, only readings or refusals out, and a corrupted
frame is either refused or read exactly as the clean one (P1's CRC16, TIC's checksums and
value formats). SMETS2 JSON has no checksum: for it only the first property holds.
"""

from __future__ import annotations

from functools import cache
from itertools import pairwise

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway_agent.meters import PROTOCOLS, FrameError
from gateway_agent.protocol import MeterReading

from .samples import read_all, readings, sample

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Bytes that mean something to one reader or another, so random input reaches the parsers.
TOKENS = [
    b"\x02",
    b"\x03",
    b"\x04",
    b"\n",
    b"\r",
    b"\t",
    b" ",
    b"\r\n",
    b"/",
    b"!3AD7\r\n",
    b"/FLU5\\253769484_A\r\n\r\n",
    b"1-0:1.8.1(000000.034*kWh)\r\n",
    b"\nADCO 050022120078 2\r",
    b"\nPAPP 02160 *\r",
    b"\nADSC\t012345678910\t;\r",
    b"\nDATE\tH240210121413\t\t6\r",
    b'{"electricitymeter": {"energy": {"import": {"cumulative": 1.5, "units": "kWh"',
    b'"mpan": "1200012345678"}}, "power": {"value": -0.2, "units": "kW"}}}\n',
]

CLEAN_FRAMES = [
    ("p1-be", "dsmr/be_fluvius_v171_3phase_2gas__dsmr_parser.txt"),
    ("p1-be", "dsmr/be_fluvius_sagemcom_single_phase_export__lbrucher.txt"),
    ("p1-nl", "dsmr/nl_dsmr42_kaifa__dsmr_parser.txt"),
    ("p1-nl", "dsmr/nl_dsmr50_iskra_am550_two_mbus__dsmr_parser.txt"),
    ("linky-historic", "tic/historic_HCHP_frame__pyteleinfo_conftest.bin"),
    ("linky-historic", "tic/historic_tempo_BBR_frame_noSTXETX__teleinfo-nom_message.txt"),
    ("linky-historic", "tic/historic_tempo_BBR_10frames_real_capture__pyteleinfo.bin"),
    ("linky-standard", "tic/standard_BASE_monophase_frame__linkytic_framereader.bin"),
    ("linky-standard", "tic/standard_HC_weekend_monophase_frame__goteleinfo.bin"),
    (
        "linky-standard",
        "tic/standard_tempo_triphase_frame_noSTXETX__teleinfo-nom_message_standard.txt",
    ),
]


def assert_only_results(results: list[object]) -> None:
    assert all(isinstance(result, MeterReading | FrameError) for result in results)
    assert all(
        "unreadable frame" not in result.reason
        for result in results
        if isinstance(result, FrameError)
    ), "a parser raised: the FrameCounter caught it, but it is a bug to fix"


def cut(data: bytes, positions: list[int]) -> list[bytes]:
    bounds = [0, *sorted(position % (len(data) + 1) for position in positions), len(data)]
    return [data[start:end] for start, end in pairwise(bounds)]


@cache
def clean(protocol: str, name: str) -> tuple[bytes, list[MeterReading]]:
    data = sample(name)
    originals = readings(read_all(protocol, data))
    assert originals, f"{name} should give readings"
    return data, originals


@pytest.mark.parametrize("protocol", PROTOCOLS)
@FUZZ
@given(
    parts=st.lists(st.one_of(st.binary(max_size=40), st.sampled_from(TOKENS)), max_size=40),
    cuts=st.lists(st.integers(min_value=0), max_size=4),
)
def test_any_bytes_give_only_readings_or_refusals(
    protocol: str, parts: list[bytes], cuts: list[int]
) -> None:
    data = b"".join(parts)
    assert_only_results(read_all(protocol, cut(data, cuts)))


@pytest.mark.parametrize(("protocol", "name"), CLEAN_FRAMES)
def test_a_flipped_byte_is_refused_or_changes_nothing(protocol: str, name: str) -> None:
    data, originals = clean(protocol, name)

    @FUZZ
    @given(position=st.integers(0, len(data) - 1), value=st.integers(0, 255))
    def flipped(position: int, value: int) -> None:
        corrupted = data[:position] + bytes([value]) + data[position + 1 :]
        results = read_all(protocol, corrupted)
        assert_only_results(results)
        for reading in readings(results):
            assert reading in originals

    flipped()


@pytest.mark.parametrize(("protocol", "name"), CLEAN_FRAMES)
def test_a_stretch_of_noise_is_refused_or_changes_nothing(protocol: str, name: str) -> None:
    data, originals = clean(protocol, name)

    @FUZZ
    @given(position=st.integers(0, len(data)), noise=st.binary(min_size=1, max_size=8))
    def noisy(position: int, noise: bytes) -> None:
        corrupted = data[:position] + noise + data[position + len(noise) :]
        results = read_all(protocol, corrupted)
        assert_only_results(results)
        for reading in readings(results):
            assert reading in originals

    noisy()


def test_every_byte_of_a_historic_frame_flipped_to_the_dangerous_values() -> None:
    """Exhaustive over positions: changes of 64 or 128 slip through the 6-bit checksum, and
    control bytes move the framing; the value formats and the framing rules must catch them."""
    data, (original,) = clean("linky-historic", "tic/historic_HCHP_frame__pyteleinfo_conftest.bin")
    for position, byte in enumerate(data):
        for value in {byte ^ 0x40, byte ^ 0x80, byte ^ 0xC0, 0x02, 0x03, 0x04, 0x0A, 0x0D, 0x20}:
            corrupted = data[:position] + bytes([value]) + data[position + 1 :]
            assert all(
                reading == original for reading in readings(read_all("linky-historic", corrupted))
            )


@pytest.mark.parametrize(
    ("protocol", "name"),
    [
        (
            "linky-standard",
            "tic/standard_tempo_triphase_raw_stream_with_corruption__teleinfo-nom.txt",
        ),
        ("linky-historic", "tic/historic_tempo_BBR_raw_stream_truncated__teleinfo-nom.txt"),
        ("smets2-cad", "uk/glow_style_electricitymeter__format_sample_values_ours.json"),
    ],
)
def test_chunk_boundaries_never_change_the_results(protocol: str, name: str) -> None:
    data = sample(name)
    whole = read_all(protocol, data)

    @FUZZ
    @given(cuts=st.lists(st.integers(min_value=0), max_size=12))
    def chunked(cuts: list[int]) -> None:
        assert read_all(protocol, cut(data, cuts)) == whole

    chunked()
