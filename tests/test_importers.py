"""The file importers: every messy-data rule on literal strings (the real files: test_importers_real.py)."""

from __future__ import annotations

import datetime as dt
import gzip
import json
from pathlib import Path

import pytest

from cryptopulse.lake import Lake
from cryptopulse.sources.importers import ImportFileError, import_file
from cryptopulse.sources.importers.messy import (
    content_id,
    decode_bytes_literal,
    is_mangled_id,
    numeric_date_order,
    parse_number,
    parse_timestamp,
)

UTC = dt.UTC


def landed(lake: Lake, relpath: str) -> list[dict]:
    """The JSON lines (or the one JSON document) of a landed gzip file."""
    text = gzip.decompress(lake.read_bytes(relpath)).decode()
    return [json.loads(line) for line in text.splitlines()]


def tweets_of(lake: Lake, report) -> list[dict]:
    return [t for f in report.landed for page in landed(lake, f) for t in page["data"]]


def write(tmp_path: Path, name: str, data: bytes | str) -> Path:
    path = tmp_path / name
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return path


@pytest.fixture
def lake(tmp_path: Path) -> Lake:
    return Lake(str(tmp_path / "lake"))


# -- messy values, one rule each --------------------------------------------------------------------------


def test_twitter_v1_dates_parse_to_utc():
    assert parse_timestamp("Tue Apr 17 23:29:43 +0000 2018") == dt.datetime(2018, 4, 17, 23, 29, 43, tzinfo=UTC)
    assert parse_timestamp("Tue Apr 17 23:29:43 +0200 2018") == dt.datetime(2018, 4, 17, 21, 29, 43, tzinfo=UTC)


def test_unix_seconds_and_milliseconds_are_told_apart_per_value():
    expected = dt.datetime(2020, 12, 30, tzinfo=UTC)
    assert parse_timestamp("1609286400") == parse_timestamp("1609286400000") == parse_timestamp("1609286400.0") == expected
    assert parse_timestamp(1609286400000) == expected
    assert parse_timestamp("12") is None  # 1970: not a timestamp of crypto data


def test_cryptodatadownload_hours_with_am_pm():
    assert parse_timestamp("2017-08-17 05-AM") == dt.datetime(2017, 8, 17, 5, tzinfo=UTC)
    assert parse_timestamp("2017-08-17 12-AM") == dt.datetime(2017, 8, 17, 0, tzinfo=UTC)
    assert parse_timestamp("2017-08-17 12-PM") == dt.datetime(2017, 8, 17, 12, tzinfo=UTC)
    assert parse_timestamp("2017-08-17 11-PM") == dt.datetime(2017, 8, 17, 23, tzinfo=UTC)


def test_day_first_dates_are_decided_from_the_column():
    assert numeric_date_order(["09-06-2018 06:32", "13-06-2018 10:00"]) is True
    assert numeric_date_order(["06/13/2018"]) is False
    assert numeric_date_order(["01-02-2018"]) is None
    assert parse_timestamp("09-06-2018 06:32", dayfirst=True) == dt.datetime(2018, 6, 9, 6, 32, tzinfo=UTC)
    assert parse_timestamp("09-06-2018 06:32", dayfirst=False) == dt.datetime(2018, 9, 6, 6, 32, tzinfo=UTC)
    assert parse_timestamp("31-02-2018") is None


def test_other_date_spellings():
    assert parse_timestamp("Oct 03, 2017") == dt.datetime(2017, 10, 3, tzinfo=UTC)
    assert parse_timestamp("2023-01-01T00:00:07.000Z") == dt.datetime(2023, 1, 1, 0, 0, 7, tzinfo=UTC)
    assert parse_timestamp("2017-11-15 08:31:01") == dt.datetime(2017, 11, 15, 8, 31, 1, tzinfo=UTC)
    assert parse_timestamp("yesterday") is None
    assert parse_timestamp("") is None


def test_thousands_separators_and_missing_numbers():
    assert parse_number("1,288,020,000") == 1_288_020_000.0
    assert parse_number(" 4408.46 ") == 4408.46
    assert parse_number("-1,5") is None  # not a thousands group: refused, not misread as -15
    assert [parse_number(v) for v in ("-", "", "NULL", "nan", "abc")] == [None] * 5


def test_python_bytes_literals_are_decoded_as_utf8():
    assert decode_bytes_literal("b'It\\xe2\\x80\\x99s here\\n'") == "It\u2019s here\n"
    assert decode_bytes_literal('b"Bitcoin\'s \\xe2\\x80\\x93 futures"') == "Bitcoin's \u2013 futures"
    assert decode_bytes_literal("b'truncated \\xe2\\x80'") == "truncated \ufffd"
    assert decode_bytes_literal("bitcoin") == "bitcoin"


def test_spreadsheet_ids_are_recognised_and_replaced_by_a_stable_content_id():
    assert is_mangled_id("1.00534E+18") and is_mangled_id("1E+18")
    assert not is_mangled_id("1005340000000000000") and not is_mangled_id("1e47362")  # a base-36 Reddit id
    assert content_id("hi", "2018-06-09T06:32:00+00:00", None) == content_id("hi", "2018-06-09T06:32:00+00:00", None)
    assert content_id("hi", "2018-06-09T06:32:00+00:00", None) != content_id("hi!", "2018-06-09T06:32:00+00:00", None)


MESSY_CSV = (
    b"banner line from some exporter\r\n"
    b" id , created_at , text ,Likes\r\n"
    b'1001,2018-06-09 06:32,"multi\r\nline, with a comma",1\n'
    b"1.00534E+18,09-06-2018 07:00,b'caf\\xc3\\xa9 \\xe2\\x80\\x99n',\"1,204\"\r\r\n"
    b"1.00534E+18,13-06-2018 08:00,another one,3\n"
    b"1001,2018-06-09 06:32,duplicate id,1\n"
    b"1002,not a date,bad time,1\n"
    b"1003,2018-06-10 00:00,   ,1\n"
    b"1004,2018-06-10 00:00,too,many,fields\n"
    b"\n"
)


def test_a_messy_csv_is_counted_row_by_row(tmp_path, lake):
    report = import_file(lake, write(tmp_path, "messy.csv", MESSY_CSV), "posts")
    assert report.format == "tweets-csv" and report.detected
    assert report.mapping == {"id": "id", "created_at": "created_at", "text": "text", "like_count": "Likes"}
    assert (report.read, report.loaded, report.duplicates, report.quarantined) == (7, 3, 1, 3)
    assert dict(report.reasons) == {"bad_timestamp": 1, "empty_text": 1, "wrong_field_count": 1}
    assert report.derived_ids == 2 and any("1.00534E+18" in n for n in report.notes)
    assert any("banner" in n for n in report.notes)
    tweets = {t["text"]: t for t in tweets_of(lake, report)}
    assert set(tweets) == {"multi\nline, with a comma", "café \u2019n", "another one"}
    assert tweets["multi\nline, with a comma"]["id"] == "1001"
    assert tweets["café \u2019n"]["created_at"] == "2018-06-09T07:00:00.000Z"  # day-first: 13-06 decided it
    assert tweets["café \u2019n"]["public_metrics"]["like_count"] == 1204
    assert tweets["café \u2019n"]["id"].startswith("cid-")


def test_rejected_rows_go_to_the_quarantine_with_row_number_and_reason(tmp_path, lake):
    import_file(lake, write(tmp_path, "messy.csv", MESSY_CSV), "posts")
    rows = landed(lake, "raw/import/_quarantine/messy-csv.jsonl.gz")
    assert [(r["row"], r["reason"]) for r in rows] == [(5, "bad_timestamp"), (6, "empty_text"), (7, "wrong_field_count")]
    assert rows[0]["record"]["created_at"] == "not a date"


def test_reimport_replaces_its_own_files_and_nothing_else(tmp_path, lake):
    path = write(tmp_path, "export.csv", "id,created_at,text\n1,2018-06-09 06:00,a\n2,2018-06-10 06:00,b\n")
    other = import_file(lake, write(tmp_path, "other.csv", "id,created_at,text\n9,2018-06-09 07:00,z\n"), "posts")
    first = import_file(lake, path, "posts")
    before = {f: lake.read_bytes(f) for f in first.landed}
    assert import_file(lake, path, "posts").landed == first.landed
    assert {f: lake.read_bytes(f) for f in first.landed} == before
    path.write_text("id,created_at,text\n1,2018-06-09 06:00,a\n")  # the 10th is gone from the file
    again = import_file(lake, path, "posts")
    assert again.landed == ["raw/import/x/posts/date=2018-06-09/export-csv.jsonl.gz"]
    assert lake.glob("raw/import/x/posts/*/export-csv.jsonl.gz") == again.landed
    assert all(lake.exists(f) for f in other.landed)


def test_generic_json_mapping_with_dotted_keys(tmp_path, lake):
    body = [{"tid": "7", "when": 1700000000, "msg": {"body": "$btc"}, "who": "al"}, {"tid": "8", "when": "x", "msg": {"body": "y"}}]
    report = import_file(lake, write(tmp_path, "g.json", json.dumps(body)), "posts",
                         mapping="tid=id,when=created_at,msg.body=text,who=author")
    assert (report.format, report.read, report.loaded, report.quarantined) == ("generic", 2, 1, 1)
    page = landed(lake, report.landed[0])[0]
    assert page["data"][0]["created_at"] == "2023-11-14T22:13:20.000Z"
    assert page["includes"]["users"] == [{"id": "al", "username": "al", "name": "al"}]


def test_snscrape_jsonl_with_content_or_rawcontent(tmp_path, lake):
    lines = [
        {"id": 1, "date": "2023-01-01T10:00:00+00:00", "rawContent": "new $eth", "user": {"username": "a", "id": 11}, "likeCount": 5},
        {"id": 2, "date": "2023-01-01T11:00:00+00:00", "content": "old $btc", "user": {"username": "b", "id": 12}},
        {"id": 2, "date": "2023-01-01T11:00:00+00:00", "content": "old $btc", "user": {"username": "b", "id": 12}},
    ]
    report = import_file(lake, write(tmp_path, "s.jsonl", "\n".join(map(json.dumps, lines)) + "\nnot json\n"), "posts")
    assert (report.format, report.read, report.loaded, report.duplicates, report.quarantined) == ("snscrape-jsonl", 4, 2, 1, 1)
    assert [(t["id"], t["text"], t["author_id"]) for t in tweets_of(lake, report)] == [("1", "new $eth", "11"), ("2", "old $btc", "12")]


def test_x_api_v2_and_reddit_listing_json(tmp_path, lake):
    page = {"data": [{"id": "5", "text": "hi $btc", "created_at": "2023-01-01T00:00:07.000Z", "author_id": "9"}],
            "includes": {"users": [{"id": "9", "username": "nine"}]}}
    x = import_file(lake, write(tmp_path, "x.json", json.dumps(page)), "posts")
    assert (x.format, x.loaded) == ("x-api-v2-json", 1)
    listing = {"kind": "Listing", "data": {"children": [
        {"kind": "t3", "data": {"name": "t3_a1", "title": "T", "selftext": "B", "created_utc": 1704110400.0, "subreddit": "Bitcoin"}},
    ]}}  # fmt: skip
    r = import_file(lake, write(tmp_path, "r.json", json.dumps(listing)), "posts")
    assert (r.format, r.loaded) == ("reddit-listing-json", 1)
    child = landed(lake, r.landed[0])[0]["data"]["children"][0]["data"]
    assert (child["name"], child["title"], child["selftext"], child["subreddit"]) == ("t3_a1", "T", "B", "Bitcoin")


@pytest.mark.parametrize(
    ("data", "kwargs", "message"),
    [
        ("a,b\n1,2\n", {}, "no column for created_at, text in header ['a', 'b']; name the columns with --map COLUMN=field"),
        ("id,created_at,text\n", {"fmt": "nope"}, "unknown --format 'nope'"),
        ("id,created_at,text\n", {"mapping": "id"}, "--map item 'id' must look like column=field"),
        ("id,created_at,text\n", {"mapping": "id=idx"}, "unknown field 'idx'"),
        ("id,created_at,text\n", {"mapping": "zz=text,id=created_at"}, "--map names column(s) 'zz' not in header"),
        ("id,created_at,text\n", {"fmt": "x-api-v2-json"}, "--format x-api-v2-json expects JSON, the file is CSV"),
        ("id,created_at,text\n", {"fmt": "reddit-csv", "mapping": "id=id"}, "give either --format reddit-csv or --map, not both"),
        ("", {}, "the file is empty"),
        ('{"broken": ', {}, "not valid JSON"),
    ],
)
def test_user_mistakes_give_one_line_naming_the_file(tmp_path, lake, data, kwargs, message):
    path = write(tmp_path, "f.csv", data)
    with pytest.raises(ImportFileError, match=r"f\.csv: ") as e:
        import_file(lake, path, "posts", **kwargs)
    assert message in str(e.value) and "\n" not in str(e.value)
