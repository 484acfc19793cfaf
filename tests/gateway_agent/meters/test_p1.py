"""P1 telegrams (Belgium e-MUCS, Netherlands DSMR 4.2/5.0) from real captures."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from dsmr_parser.parsers import TelegramParser

from gateway_agent.meters import ReadStats, from_kilo
from gateway_agent.meters.p1 import MAX_TELEGRAM, decode_equipment_id

from .samples import only_reading, read_all, readings, refusals, sample

BE_3PHASE = "dsmr/be_fluvius_v171_3phase_2gas__dsmr_parser.txt"
BE_WINTER = "dsmr/be_fluvius_v171_alt__dsmr_parser.txt"
BE_EXPORT = "dsmr/be_fluvius_sagemcom_single_phase_export__lbrucher.txt"
BE_BAD_CRC = "dsmr/INVALID_CRC_be_fluvius_v171__derived.txt"
NL_42 = "dsmr/nl_dsmr42_kaifa__dsmr_parser.txt"
NL_50 = "dsmr/nl_dsmr50_iskra_mt382__dsmr_parser.txt"
NL_50_MBUS = "dsmr/nl_dsmr50_iskra_am550_two_mbus__dsmr_parser.txt"


def utc(*fields: int) -> datetime:
    return datetime(*fields, tzinfo=UTC)


def resigned(telegram: bytes) -> bytes:
    """The telegram with its CRC recomputed, after a test changed its content."""
    content = telegram[: telegram.index(b"!") + 1]
    crc = TelegramParser.crc16(content.decode("ascii"))
    return content + f"{crc:04X}\r\n".encode()


def test_belgian_three_phase_telegram_in_summer_time() -> None:
    reading = only_reading("p1-be", sample(BE_3PHASE))
    assert reading.meter_id == "1SAG3101021605"  # 0-0:96.1.1, not the gas meters' 0-1/0-2
    assert reading.timestamp == utc(2020, 5, 12, 11, 54, 9)  # 13:54:09 S (CEST)
    assert reading.import_wh == {"1": 34, "2": 15_758}
    assert reading.export_wh == {"1": 0, "2": 11}
    assert (reading.import_w, reading.export_w) == (0, 0)
    assert reading.voltage_v == [234.7, 234.7, 234.7]
    assert reading.current_a == [0.0, 0.0, 0.0]
    assert reading.tariff == "1"


def test_belgian_telegram_in_winter_time() -> None:
    reading = only_reading("p1-be", sample(BE_WINTER))
    assert reading.meter_id == "1SAG3100721326"
    assert reading.timestamp == utc(2023, 11, 2, 11, 15, 48)  # 12:15:48 W (CET)
    assert reading.import_wh == {"1": 301_548, "2": 270_014}
    assert reading.export_wh == {"1": 5, "2": 0}
    assert reading.import_w == 338
    assert reading.voltage_v == [232.9, 228.1, 228.1]
    assert reading.current_a == [0.27, 0.88, 0.52]


def test_belgian_telegram_exporting() -> None:
    reading = only_reading("p1-be", sample(BE_EXPORT))
    assert reading.meter_id == "1SAG3105200877"
    assert reading.timestamp == utc(2023, 6, 29, 8, 22, 48)
    assert reading.import_wh == {"1": 661_701, "2": 776_784}
    assert reading.export_wh == {"1": 990_699, "2": 423_681}
    assert (reading.import_w, reading.export_w) == (0, 135)


def test_dutch_dsmr42_telegram_has_no_voltages_and_a_raw_meter_id() -> None:
    reading = only_reading("p1-nl", sample(NL_42))
    # this test telegram's id does not decode to printable ASCII: it is kept as sent
    assert reading.meter_id == "3960221976967177082151037881335713"
    assert reading.timestamp == utc(2016, 11, 13, 19, 57, 57)
    assert reading.import_wh == {"1": 1_581_123, "2": 1_435_706}
    assert reading.export_wh == {"1": 0, "2": 0}
    assert reading.import_w == 2027
    assert reading.voltage_v == []
    assert reading.current_a == [0.0, 6.0, 2.0]
    assert reading.tariff == "2"


def test_dutch_dsmr50_telegrams() -> None:
    mt382 = only_reading("p1-nl", sample(NL_50))
    assert mt382.meter_id == "K8EG004046395507"
    assert mt382.timestamp == utc(2017, 1, 2, 18, 20, 2)
    assert mt382.import_wh == {"1": 4426, "2": 2399}
    assert mt382.export_wh == {"1": 2444, "2": 0}
    assert mt382.voltage_v == [230.0, 230.0, 229.0]
    assert mt382.current_a == [0.48, 0.44, 0.86]

    am550 = only_reading("p1-nl", sample(NL_50_MBUS))
    assert am550.meter_id == "E0044007382246019"
    assert am550.timestamp == utc(2020, 4, 26, 20, 33, 25)  # 22:33:25 S (CEST)
    assert am550.import_wh == {"1": 2_130_115, "2": 245_467}
    assert am550.import_w == 111


def test_a_telegram_with_a_bad_crc_is_refused() -> None:
    stats = ReadStats()
    results = read_all("p1-be", sample(BE_BAD_CRC), stats)
    assert readings(results) == []
    [error] = refusals(results)
    assert error.frame == 1 and error.protocol == "p1-be"
    assert "bad CRC" in error.reason and "3AD8" in error.reason and "3AD7" in error.reason
    assert (stats.frames, stats.readings, stats.refused) == (1, 0, 1)


@pytest.mark.parametrize(
    ("stamp", "expected"),
    [
        ("201025023000S", utc(2020, 10, 25, 0, 30)),  # the first 02:30 of the night (CEST)
        ("201025023000W", utc(2020, 10, 25, 1, 30)),  # the second one (CET)
        ("200329013000W", utc(2020, 3, 29, 0, 30)),  # just before the spring change
        ("200329033000S", utc(2020, 3, 29, 1, 30)),  # just after it
    ],
)
def test_dst_flag_settles_the_utc_time(stamp: str, expected: datetime) -> None:
    telegram = re.sub(
        rb"0-0:1\.0\.0\(\d{12}[SW]\)", f"0-0:1.0.0({stamp})".encode(), sample(BE_3PHASE)
    )
    assert only_reading("p1-be", resigned(telegram)).timestamp == expected


def test_energy_is_converted_with_decimals_not_floats() -> None:
    assert int(float("1.005") * 1000) == 1004  # what a float conversion would store
    assert from_kilo(Decimal("1.005")) == 1005
    telegram = sample(BE_3PHASE).replace(b"1-0:1.8.1(000000.034*kWh)", b"1-0:1.8.1(000001.005*kWh)")
    assert only_reading("p1-be", resigned(telegram)).import_wh["1"] == 1005


def test_splitter_resyncs_after_garbage_and_a_cut_telegram() -> None:
    telegram = sample(BE_3PHASE)
    stream = b"\x00garbage!!zz" + telegram[:300] + b"noise" + telegram + b"\r\n" + telegram
    results = read_all("p1-be", stream)
    assert len(readings(results)) == 2
    [cut] = refusals(results)
    assert "cut short" in cut.reason and cut.frame == 1


def test_chunk_boundaries_do_not_matter() -> None:
    stream = sample(BE_3PHASE) + sample(BE_BAD_CRC) + sample(BE_WINTER)
    whole = read_all("p1-be", stream)
    byte_by_byte = read_all("p1-be", [stream[i : i + 1] for i in range(len(stream))])
    assert whole == byte_by_byte
    assert [type(result).__name__ for result in whole] == [
        "MeterReading",
        "FrameError",
        "MeterReading",
    ]


def test_a_telegram_cut_by_the_end_of_the_input_is_refused() -> None:
    results = read_all("p1-be", sample(BE_3PHASE)[:-20])
    assert readings(results) == []
    assert "end of the input" in refusals(results)[0].reason


def test_footer_without_header_and_overflow_are_refused_then_reading_resumes() -> None:
    telegram = sample(BE_3PHASE)
    chunks = [telegram[40:], b"/" + b"x" * (MAX_TELEGRAM + 10), telegram]
    results = read_all("p1-be", chunks)
    reasons = [error.reason for error in refusals(results)]
    assert any("without its '/' header" in reason for reason in reasons)
    assert any("no telegram end" in reason for reason in reasons)
    assert len(readings(results)) == 1


def test_a_missing_register_refuses_the_telegram() -> None:
    telegram = sample(BE_3PHASE).replace(b"1-0:1.8.2(000015.758*kWh)\r\n", b"")
    [error] = read_all("p1-be", resigned(telegram))
    assert "ELECTRICITY_USED_TARIFF_2" in str(error)


def test_equipment_id_decoding() -> None:
    assert decode_equipment_id("4B384547303034303436333935353037") == "K8EG004046395507"
    assert decode_equipment_id("0019") == "0019"  # not printable once decoded: kept raw
    assert decode_equipment_id("ABC") == "ABC"
