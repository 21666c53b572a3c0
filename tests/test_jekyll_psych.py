"""Psych's scalar typing and Ruby's Time.parse, as newsctl.jekyll emulates them, against the real
Ruby that Jekyll runs on (one `ruby` process types every sample)."""

from __future__ import annotations

import json
import shutil
import subprocess
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import yaml

from newsctl.jekyll.dates import InvalidDate, UnknownDate, ruby_time_parse
from newsctl.jekyll.psych import DisallowedClass, PsychDate, PsychTime, load_psych, ruby_to_s

pytestmark = pytest.mark.skipif(shutil.which("ruby") is None, reason="ruby is not installed")

ZONE = ZoneInfo("Asia/Shanghai")
SCALARS = [
    "1,000", "1_000", "0755", "08", "09", "12:30", "1:02:03", "-1:30", "1:30.5", "3.10", "1.", "1e5", "1.5e3",
    "1.5e+3", "+.inf", "-.INF", ".NaN", "tRuE", "NuLL", "Off", "ON", "y", "n", "Yes", "~", "0x1F", "0b101",
    "0o17", "1,000.5", "-0", "+12", "0,5", ",5", "1,,0", ".", "-.", "+0800", "2022-02-30", "2022-6-1",
    "2022-06-01 10:00", "2022-06-01 10:00:00", "2022-02-30 10:00:00", "2022-13-45 10:00:00",
    "2022-06-01t10:00:00+8", "2022-06-01T10:00:00.5Z", "2022-06-01 10:00:00 -05:30", "１２３", "一千",
    "沪指 3,000 点", "emnews", "2022年6月1日", "3,000点", "-", "null 值", "true story", "falsey",
    "12:60", "99:59:59", "0.1.2", "1_", "_1", "1__0", "0x", "0b", "2022-06-01 10:00:00 +08:00",
]
TIMES = [
    "2022-02-30", "2022-02-31 10:00", "2022-02-32", "2022-06-01 24:00", "2022-06-01 10:00 +0800",
    "2022-06-01 10:00:00 UTC", "2022-06-01 10:00:60", "2021-12-08 10:46:18 UTC", "+0800", "", "true",
    "2022/06/01 10:00", "2022-6-1 9:5", "2022-06-01T10:00", "2022-06-01 10:00 CST", "2022-13-01",
    "2022-06-00", "22-6-1", "2022-06-01 10:60", "2022-06-01 25:00", "2022-06-01 10:00 +8",
    "2022-06-01 10:00 JST", "2022-06-01 10:00:00 -0330", "2022-06-01 10:00 pdt", "1986-05-04 12:00",
]

_RUBY = r"""
require "psych"; require "time"; require "json"
ENV["TZ"] = "Asia/Shanghai"
input = JSON.parse(STDIN.read)
out = {"scalars" => input["scalars"].map { |s|
  begin
    v = Psych.safe_load("x: #{s}", permitted_classes: [Date, Time])["x"]
    {"class" => v.class.name, "text" => v.is_a?(Time) ? v.localtime.strftime("%Y-%m-%d %H:%M:%S.%6N %z") : v.to_s}
  rescue Psych::DisallowedClass => e
    {"class" => "Disallowed", "text" => e.message}
  rescue Psych::SyntaxError => e
    {"class" => "SyntaxError", "text" => e.message}
  end
}, "times" => input["times"].map { |s|
  begin
    {"ok" => true, "text" => Time.parse(s).localtime.strftime("%Y-%m-%d %H:%M:%S %z")}
  rescue ArgumentError => e
    {"ok" => false, "text" => e.message}
  end
}}
puts JSON.generate(out)
"""


@pytest.fixture(scope="module")
def ruby_answers() -> dict:
    done = subprocess.run(["ruby", "-e", _RUBY], input=json.dumps({"scalars": SCALARS, "times": TIMES}),
                          capture_output=True, text=True, check=True, timeout=60)
    return json.loads(done.stdout)


def _ours(text: str) -> dict:
    try:
        value = load_psych(f"x: {text}")["x"]
    except yaml.constructor.ConstructorError as exc:  # the loader wraps DisallowedClass
        assert isinstance(exc.__cause__, DisallowedClass)
        return {"class": "Disallowed"}
    except yaml.YAMLError:
        return {"class": "SyntaxError"}
    if isinstance(value, PsychTime):
        return {"class": "Time", "text": value.instant.astimezone(ZONE).strftime("%Y-%m-%d %H:%M:%S.%f %z")}
    if isinstance(value, PsychDate):
        return {"class": "Date", "text": value.day.isoformat()}
    ruby_class = {bool: "TrueClass" if value else "FalseClass", int: "Integer", float: "Float", str: "String",
                  type(None): "NilClass"}[type(value)]
    return {"class": ruby_class, "text": ruby_to_s(value, ZONE)}


@pytest.mark.parametrize("index", range(len(SCALARS)))
def test_plain_scalar_is_typed_as_psych_types_it(ruby_answers: dict, index: int) -> None:
    theirs = ruby_answers["scalars"][index]
    ours = _ours(SCALARS[index])
    if theirs["class"] in ("Disallowed", "SyntaxError"):
        assert ours["class"] == theirs["class"], SCALARS[index]
    else:
        assert ours == theirs, SCALARS[index]


@pytest.mark.parametrize("index", range(len(TIMES)))
def test_time_parse_reads_dates_as_ruby_does(ruby_answers: dict, index: int) -> None:
    theirs = ruby_answers["times"][index]
    text = TIMES[index]
    try:
        moment: datetime | None = ruby_time_parse(text, ZONE)
    except InvalidDate:
        moment = None
    except UnknownDate:
        pytest.skip(f"{text!r}: a form newsctl does not emulate (reported as such by validate)")
    if theirs["ok"]:
        assert moment is not None and moment.strftime("%Y-%m-%d %H:%M:%S %z") == theirs["text"], text
    else:
        assert moment is None, f"{text!r}: Ruby raises {theirs['text']}"
