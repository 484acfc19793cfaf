"""Linky TIC, historic and standard modes, from real captures and frames built here."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from gateway_agent.meters import ReadStats
from gateway_agent.meters.tic import (
    BadGroup,
    Group,
    checksum,
    french_time,
    parse_historic_group,
    parse_standard_group,
)

from .samples import READ_AT, only_reading, read_all, readings, refusals, sample

HISTORIC_HCHP = "tic/historic_HCHP_frame__pyteleinfo_conftest.bin"
HISTORIC_10_FRAMES = "tic/historic_tempo_BBR_10frames_real_capture__pyteleinfo.bin"
HISTORIC_NO_STX = "tic/historic_tempo_BBR_frame_noSTXETX__teleinfo-nom_message.txt"
HISTORIC_TRUNCATED = "tic/historic_tempo_BBR_raw_stream_truncated__teleinfo-nom.txt"
STANDARD_BASE = "tic/standard_BASE_monophase_frame__linkytic_framereader.bin"
STANDARD_WEEKEND = "tic/standard_HC_weekend_monophase_frame__goteleinfo.bin"
STANDARD_NO_STX = "tic/standard_tempo_triphase_frame_noSTXETX__teleinfo-nom_message_standard.txt"
STANDARD_CORRUPTED = "tic/standard_tempo_triphase_raw_stream_with_corruption__teleinfo-nom.txt"

STX, ETX, LF, CR = b"\x02", b"\x03", b"\n", b"\r"


def utc(*fields: int) -> datetime:
    return datetime(*fields, tzinfo=UTC)


def historic_group(label: str, value: str) -> bytes:
    covered = f"{label} {value}".encode()
    return LF + covered + b" " + bytes([checksum(covered)]) + CR


def historic_frame(*groups: bytes) -> bytes:
    return STX + b"".join(groups) + ETX


HCHP_GROUPS = [
    historic_group(label, value)
    for label, value in [
        ("ADCO", "050022120078"),
        ("OPTARIF", "HC.."),
        ("ISOUSC", "45"),
        ("HCHC", "094939439"),
        ("HCHP", "127970334"),
        ("PTEC", "HP.."),
        ("IINST", "009"),
        ("IMAX", "049"),
        ("PAPP", "02160"),
        ("HHPHC", "E"),
        ("MOTDETAT", "400000"),
    ]
]


# --- groups ----------------------------------------------------------------------------------


def test_historic_group_whose_checksum_is_a_space() -> None:
    assert parse_historic_group(b"PTEC HP..  ") == Group("PTEC", "HP..")
    assert parse_historic_group(b"IINST 009  ") == Group("IINST", "009")


def test_standard_groups_with_spaces_in_their_values() -> None:
    assert parse_standard_group(b"NGTF\t HC et Week-End \tU") == Group("NGTF", " HC et Week-End ")
    assert parse_standard_group(b"LTARF\t   HC  BLANC    \t6") == Group("LTARF", "   HC  BLANC    ")


def test_standard_horodated_groups() -> None:
    assert parse_standard_group(b"DATE\tH200214230804\t\t;") == Group("DATE", "", "H200214230804")
    smax = parse_standard_group(b"SMAXSN\tH200214175135\t10802\t7")
    assert smax == Group("SMAXSN", "10802", "H200214175135")


def test_bad_groups_keep_the_label_they_show() -> None:
    assert parse_historic_group(b"PAPP 02160 +") == BadGroup("PAPP", "checksum", "PAPP")
    assert parse_standard_group(b"@COUP\t30\t\\") == BadGroup(None, "shape", "@COUP")
    assert parse_standard_group(b"EAST  0021849106\t.") == BadGroup(
        None, "shape", "EAST  0021849106"
    )


@pytest.mark.parametrize(
    ("stamp", "expected"),
    [
        ("H200214230804", utc(2020, 2, 14, 22, 8, 4)),  # hiver: CET, UTC+1
        ("E200614230804", utc(2020, 6, 14, 21, 8, 4)),  # été: CEST, UTC+2
        ("E201025023000", utc(2020, 10, 25, 0, 30)),  # the repeated autumn hour, first pass
        ("H201025023000", utc(2020, 10, 25, 1, 30)),  # ... and second pass
        ("h240210121413", utc(2024, 2, 10, 11, 14, 13)),  # lower case: the meter's clock degraded
    ],
)
def test_french_time_with_season_letter(stamp: str, expected: datetime) -> None:
    assert french_time(stamp) == expected


# --- historic mode ---------------------------------------------------------------------------


def test_historic_hc_hp_frame() -> None:
    reading = only_reading("linky-historic", sample(HISTORIC_HCHP))
    assert reading.meter_id == "050022120078"
    assert reading.timestamp == READ_AT  # historic frames carry no time: the reader's clock
    assert reading.import_wh == {"HCHC": 94_939_439, "HCHP": 127_970_334}
    assert reading.export_wh == {}
    assert reading.import_w == 2160  # PAPP, in VA
    assert reading.current_a == [9.0]
    assert reading.tariff == "HCHP"  # PTEC "HP.." feeds HCHP


def test_historic_tempo_real_capture_of_ten_frames() -> None:
    stats = ReadStats()
    results = read_all("linky-historic", sample(HISTORIC_10_FRAMES), stats)
    assert len(results) == len(readings(results)) == 10 and stats.bad_groups == 0
    first, last = readings(results)[0], readings(results)[-1]
    assert first.meter_id == "021861348497"
    assert first.import_wh == {
        "BBRHCJB": 18_328_856,
        "BBRHPJB": 23_739_545,
        "BBRHCJW": 1_466_099,
        "BBRHPJW": 2_132_883,
        "BBRHCJR": 860_118,
        "BBRHPJR": 844_115,
    }
    assert last.import_wh["BBRHCJB"] == 18_328_876
    assert first.tariff == "BBRHCJB" and first.import_w == 2840 and first.current_a == [12.0]


def test_historic_frame_stored_without_stx_etx() -> None:
    reading = only_reading("linky-historic", sample(HISTORIC_NO_STX))
    assert reading.meter_id == "031961098836"
    assert reading.import_wh["BBRHCJB"] == 1_478_389
    assert reading.tariff == "BBRHPJB" and reading.import_w == 120


def test_historic_stream_cut_at_both_ends() -> None:
    stats = ReadStats()
    results = read_all("linky-historic", sample(HISTORIC_TRUNCATED), stats)
    assert [type(result).__name__ for result in results] == [
        "FrameError",  # the head: the capture began mid-frame
        "MeterReading",
        "FrameError",  # the tail: no ETX, its last group HHPHC cut
    ]
    head, tail = refusals(results)
    assert "no ADCO" in head.reason
    assert "truncated" in tail.reason
    assert stats.bad_groups == 1  # "HHPHC A" lost its checksum


def test_a_bad_group_the_reading_does_not_use_is_skipped_and_counted() -> None:
    groups = list(HCHP_GROUPS)
    groups[7] = LF + b"IMAX 049 X" + CR  # wrong checksum on IMAX
    stats = ReadStats()
    [reading] = read_all("linky-historic", historic_frame(*groups), stats)
    assert reading == only_reading("linky-historic", historic_frame(*HCHP_GROUPS))
    assert stats.bad_groups == 1


def test_a_bad_group_the_reading_needs_refuses_the_frame() -> None:
    groups = list(HCHP_GROUPS)
    groups[8] = LF + b"PAPP 02161 *" + CR  # the value changed, the checksum did not
    [error] = read_all("linky-historic", historic_frame(*groups))
    assert str(error) == "frame 1 refused: bad group: PAPP (checksum)"


def test_a_group_whose_cr_became_another_byte_is_repaired() -> None:
    groups = list(HCHP_GROUPS)
    groups[8] = groups[8][:-1] + b"\x0c"  # PAPP's CR became a form feed
    stats = ReadStats()
    [reading] = read_all("linky-historic", historic_frame(*groups), stats)
    assert reading.import_w == 2160
    assert (stats.repaired_groups, stats.bad_groups) == (1, 0)


@pytest.mark.parametrize(
    ("frame", "reason"),
    [
        (historic_frame(*HCHP_GROUPS[:8], *HCHP_GROUPS[9:]), "incomplete frame: no PAPP"),
        (historic_frame(*HCHP_GROUPS[1:]), "no ADCO"),
        (historic_frame(*HCHP_GROUPS, HCHP_GROUPS[3]), "label sent twice: HCHC"),
        (STX + b"".join(HCHP_GROUPS[:5]) + b"\x04", "interrupted the frame (EOT)"),
        (STX + b"".join(HCHP_GROUPS[:5]) + STX + b"".join(HCHP_GROUPS) + ETX, "new frame began"),
        (STX + b"".join(HCHP_GROUPS) + b"x" + ETX, "1 byte outside any group"),
        (STX + b"".join(HCHP_GROUPS)[:-3] + ETX, "ETX inside a group"),
        (historic_frame(*HCHP_GROUPS).replace(b"OPTARIF HC..", b"OPTARIF XYZ."), "OPTARIF"),
    ],
)
def test_damaged_historic_frames_are_refused(frame: bytes, reason: str) -> None:
    errors = refusals(read_all("linky-historic", frame))
    assert errors and reason in errors[0].reason


# --- standard mode ---------------------------------------------------------------------------


def test_standard_base_frame() -> None:
    reading = only_reading("linky-standard", sample(STANDARD_BASE))
    assert reading.meter_id == "012345678910"
    assert reading.timestamp == utc(2024, 2, 10, 11, 14, 13)  # H240210121413
    assert reading.import_wh["EAST"] == 3_519_703
    assert reading.import_wh["EASF01"] == 3_519_703
    assert set(reading.import_wh) == {"EAST", *(f"EASF{index:02d}" for index in range(1, 11))}
    assert reading.import_w == 260
    assert (reading.voltage_v, reading.current_a) == ([241.0], [1.0])
    assert reading.tariff == "EASF01"


def test_standard_hc_weekend_frame() -> None:
    reading = only_reading("linky-standard", sample(STANDARD_WEEKEND))
    assert reading.meter_id == "12345678900"
    assert reading.timestamp == utc(2019, 12, 3, 11, 58, 5)
    supplier = [reading.import_wh[f"EASF0{index}"] for index in (1, 2, 3)]
    assert supplier == [4_432_429, 9_236_697, 3_357_049]
    assert reading.import_wh["EAST"] == sum(supplier) == 17_026_175
    assert reading.import_w == 519


def test_standard_three_phase_tempo_frame_without_stx_etx() -> None:
    reading = only_reading("linky-standard", sample(STANDARD_NO_STX))
    assert reading.meter_id == "041776199277"
    assert reading.timestamp == utc(2020, 2, 14, 22, 8, 4)
    assert reading.import_wh["EAST"] == 21_849_106
    assert reading.import_wh["EASF02"] == 14_090_959
    assert reading.voltage_v == [237.0, 238.0, 235.0]
    assert reading.current_a == [3.0, 6.0, 3.0]
    assert reading.import_w == 2700
    assert reading.tariff == "EASF03"  # NTARF 03 (LTARF "HC  BLANC")


def test_standard_stream_with_real_transmission_errors() -> None:
    stats = ReadStats()
    results = read_all("linky-standard", sample(STANDARD_CORRUPTED), stats)
    assert [reading.timestamp for reading in readings(results)] == [
        utc(2020, 2, 14, 22, 8, 4),
        utc(2020, 2, 14, 22, 8, 6),  # kept: its EASD01 group's CR became 0x0C, checksum right
        utc(2020, 2, 14, 22, 8, 14),
    ]
    assert readings(results)[1].import_wh["EAST"] == 21_849_107
    assert {error.frame: error.reason for error in refusals(results)} == {
        1: "no ADSC: the frame began before the reader did",
        4: "bad group: EASF09 (checksum)",
        5: "bad groups: 'CC@SN-1' (shape), NTARF (checksum)",
        6: "bad group: EASF07 (checksum)",
        7: "bad groups: '@COUP' (shape), 'CC@SN' (shape)",
        9: "truncated frame: the input ended before the frame did (no ETX)",
    }
    # 13 groups with a bad checksum, and the tail group cut to "P" before the file's last LF
    assert stats.bad_groups == 14
    assert stats.repaired_groups == 2  # the two groups whose CR became 0x0C
    assert (stats.frames, stats.readings, stats.refused) == (9, 3, 6)


def test_chunk_boundaries_do_not_matter() -> None:
    stream = sample(STANDARD_CORRUPTED)
    whole = read_all("linky-standard", stream)
    assert (
        read_all("linky-standard", [stream[i : i + 7] for i in range(0, len(stream), 7)]) == whole
    )
