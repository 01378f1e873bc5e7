from __future__ import annotations

import pytest

from airflow_provider_connectwise.core.mapping import (
    DEFAULT_FIELD_MAPPING,
    DeviceMappingError,
    clean_text,
    management_link_template_problem,
    map_device,
    render_management_link,
    utf16_length,
)

from .helpers import load_json

AGENT = "0b6a3c1e-0000-4000-8000-0000000000aa"


def mapped_field(field: str, raw, **extra_facts):
    fact = DEFAULT_FIELD_MAPPING[field]
    return map_device(
        {"agentid": AGENT, "facts": {"device_name": "Mac", fact: raw, **extra_facts}}
    ).fields.get(field)


def unwritten(field: str, raw) -> str:
    """Map a device whose ``field`` fact is ``raw``: the field is not written; return its warning."""
    fact = DEFAULT_FIELD_MAPPING[field]
    device = map_device(
        {"agentid": AGENT, "facts": {"device_name": "Ann's Mac", "serial_number": "SN1", fact: raw}}
    )
    assert field not in device.fields
    assert device.name == "Ann's Mac" or field == "name"
    (warning,) = [w for w in device.warnings if w.startswith(f"{field}: ")]
    assert warning.endswith("; not written"), warning
    return warning


class TestSampleDevices:
    def test_the_seed_table(self):
        first = map_device(load_json("devices.json")[0])
        assert first.fields == {
            "name": "Ann's MacBook Pro",
            "deviceIdentifier": "0b6a3c1e-0000-4000-8000-000000000001",
            "serialNumber": "C02ZK0AAMD6M",
            "macAddress": "A4:83:E7:0B:12:9C",
            "ipAddress": "192.168.1.20",
            "osType": "macOS",
            "osInfo": "macOS 14.2.1 (23C71)",
            "cpuSpeed": "2.3",
            "ram": "16",
            "lastLoginName": "ann",
            "managementLink": "https://app.addigy.com/devices/0b6a3c1e-0000-4000-8000-000000000001",
        }
        assert first.policy_id == "pol-1"
        assert first.warnings == ()
        # Every fact, opened, for the type rules -- not only the mapped ones.
        assert first.facts["hardware_model"] == "MacBookPro16,1"

    def test_bare_facts(self):
        second = map_device(load_json("devices.json")[1])
        assert second.fields["cpuSpeed"] == "3.2"
        assert second.fields["ram"] == "8"
        assert second.fields["macAddress"] == "A4:83:E7:0B:12:9D"

    def test_error_and_missing_facts(self):
        third = map_device(load_json("devices.json")[2])
        # The name fact carries an error: left out with a warning, the serial number names the device.
        assert third.name == "FVFXC2ABHV2H"
        assert "macAddress" not in third.fields  # null: not cleared, not set
        assert "osType" not in third.fields  # missing
        assert third.fields["ipAddress"] == "10.0.0.7"
        assert third.warnings == (
            "name left unchanged: fact 'device_name' reported an error: fact not collected yet",
            "ipAddress: 2 addresses reported; the first valid one is written",
            "name: no device name (fact 'device_name'); a new configuration is named after its serial number, an existing one keeps its name",
        )


class TestText:
    @pytest.mark.parametrize(
        ("raw", "expected"),
        [
            ("  Ann's   MacBook\tPro\n", "Ann's MacBook Pro"),
            ("Cafe\u0301", "Café"),  # NFC
            ("Mac\x00Book\x07", "MacBook"),  # control characters removed
            ("evil\u202etxt.exe", "eviltxt.exe"),  # bidi override removed
            ("a\u2028b", "a b"),  # line separator is whitespace
            ("\ufeffMac", "Mac"),
            ('Q\\"uote*d', 'Q\\"uote*d'),  # quotes, backslashes and * are data
            ("👩‍💻 desk", "👩‍💻 desk"),  # the emoji joiner is kept
            (12345, "12345"),
        ],
    )
    def test_cleaning(self, raw, expected):
        assert mapped_field("name", raw) == expected

    def test_lone_surrogates_are_removed(self):
        assert clean_text("Mac\ud800Book") == "MacBook"

    @pytest.mark.parametrize(
        ("raw", "shown"),
        [
            (True, "True is a boolean, not text"),
            ({"a": 1}, "<an object of 1 keys> is an object, not text"),
            (["Mac"], "<a list of 1 items> is a list, not text"),
            (float("nan"), "nan is not a finite number"),
            (10**100, "<a number of 101 digits> is too long a number to be text"),
        ],
    )
    def test_non_text_is_left_unwritten_with_a_warning_naming_field_and_value(self, raw, shown):
        assert unwritten("osInfo", raw) == f"osInfo: {shown} (fact 'system_version'); not written"

    def test_truncation_to_connectwise_maxima_with_a_warning(self):
        device = map_device(
            {
                "agentid": AGENT,
                "facts": {"device_name": "n" * 130, "serial_number": "S", "current_user": "u" * 101},
            }
        )
        assert device.fields["name"] == "n" * 100
        assert device.fields["lastLoginName"] == "u" * 100
        assert device.warnings == (
            "name cut to 100 characters, ConnectWise's maximum (was 130)",
            "lastLoginName cut to 100 characters, ConnectWise's maximum (was 101)",
        )

    def test_truncation_counts_utf16_units_and_never_splits_a_character(self):
        name = "a" * 99 + "😀" + "b"
        assert utf16_length(name) == 102
        assert mapped_field("name", name) == "a" * 99

    def test_empty_after_cleaning_is_missing(self):
        assert mapped_field("osType", " \x00 ") is None


class TestMac:
    @pytest.mark.parametrize(
        "raw",
        [
            "aa:bb:cc:dd:ee:0f",
            "AA-BB-CC-DD-EE-0F",
            "aabb.ccdd.ee0f",
            "aabbccddee0f",
            " aa:bb:cc:dd:ee:0f ",
            "aa bb cc dd ee 0f",
            "aa:bb:cc:dd:ee:f",  # one digit per group
            "zz, aa:bb:cc:dd:ee:0f",  # first valid
            "00:00:00:00:00:00; aa:bb:cc:dd:ee:0f",  # a placeholder is skipped
            ["not-a-mac", "aa:bb:cc:dd:ee:0f", "11:22:33:44:55:66"],
            "aa:bb:cc:dd:ee:0f 11:22:33:44:55:66",
        ],
    )
    def test_formats(self, raw):
        assert mapped_field("macAddress", raw) == "AA:BB:CC:DD:EE:0F"

    @pytest.mark.parametrize("raw", ["aa:bb:cc:dd:ee", "aa:bb-cc:dd:ee:ff", "gg:hh:ii:jj:kk:ll", "zz:zz"])
    def test_invalid_is_left_unwritten_with_the_raw_value_in_the_warning(self, raw):
        assert unwritten("macAddress", raw) == (
            f"macAddress: {raw!r} is not a MAC address (fact 'ethernet_mac_address'); not written"
        )

    @pytest.mark.parametrize("raw", ["00:00:00:00:00:00", "0:0:0:0:0:0", ["000000000000"]])
    def test_a_placeholder_alone_is_left_unwritten(self, raw):
        assert "is a placeholder, not a MAC address" in unwritten("macAddress", raw)

    def test_hostile_raw_value_is_escaped_and_cut_in_the_warning(self):
        warning = unwritten("macAddress", "bad\nline\u202e" + "x" * 200)
        assert "\n" not in warning and "\u202e" not in warning
        assert len(warning) < 200

    @pytest.mark.parametrize(
        ("raw", "count"),
        [
            (["aa:bb:cc:dd:ee:0f", "11:22:33:44:55:66"], 2),
            (["not-a-mac", "aa:bb:cc:dd:ee:0f", "11:22:33:44:55:66"], 3),
            ("aa:bb:cc:dd:ee:0f, 11:22:33:44:55:66", 2),
            ("aa:bb:cc:dd:ee:0f 11:22:33:44:55:66", 2),
        ],
    )
    def test_several_addresses_keep_the_first_valid_with_a_warning(self, raw, count):
        device = map_device({"agentid": AGENT, "facts": {"device_name": "Mac", "ethernet_mac_address": raw}})
        assert device.fields["macAddress"] == "AA:BB:CC:DD:EE:0F"
        assert f"macAddress: {count} addresses reported; the first valid one is written" in device.warnings

    def test_one_address_gives_no_warning(self):
        device = map_device(
            {
                "agentid": AGENT,
                "facts": {
                    "device_name": "Mac",
                    "serial_number": "S",
                    "ethernet_mac_address": ["aa:bb:cc:dd:ee:0f"],
                },
            }
        )
        assert device.warnings == ()

    @pytest.mark.parametrize("raw", ["", [], "  "])
    def test_empty_is_missing(self, raw):
        assert mapped_field("macAddress", raw) is None


class TestIp:
    @pytest.mark.parametrize(
        ("raw", "expected"),
        [
            ("192.168.1.20", "192.168.1.20"),
            (" 10.0.0.7 ", "10.0.0.7"),
            ("10.0.0.7, 192.168.1.2", "10.0.0.7"),
            (["junk", "10.0.0.8"], "10.0.0.8"),
            ("2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1"),
            ("fe80::1%en0", "fe80::1%en0"),
            ("0.0.0.0 10.0.0.9", "10.0.0.9"),
            ("0.0.0.0", None),  # noqa: S104 - the MDM reports "no address" this way
        ],
    )
    def test_formats(self, raw, expected):
        assert mapped_field("ipAddress", raw) == expected

    @pytest.mark.parametrize("raw", ["300.1.1.1", "10.0.0", "localhost", "010.0.0.1"])
    def test_invalid_is_left_unwritten(self, raw):
        assert (
            unwritten("ipAddress", raw)
            == f"ipAddress: {raw!r} is not an IP address (fact 'local_ip'); not written"
        )

    def test_numbers_are_not_addresses(self):
        assert "holds a number, not text" in unwritten("ipAddress", 3232235777)

    def test_a_zone_too_long_for_connectwise_is_not_cut_into_another_address(self):
        assert "is not an IP address" in unwritten("ipAddress", "fe80::1%" + "z" * 60)

    def test_two_addresses_warn(self):
        device = map_device({"agentid": AGENT, "facts": {"local_ip": ["10.0.0.1", "10.0.0.2"]}})
        assert device.fields["ipAddress"] == "10.0.0.1"
        assert "ipAddress: 2 addresses reported; the first valid one is written" in device.warnings


class TestCpuSpeed:
    @pytest.mark.parametrize(
        ("raw", "expected"),
        [
            (2.3, "2.3"),
            (2, "2"),
            ("2.3 GHz", "2.3"),
            ("2.30GHz", "2.3"),
            ("2300 MHz", "2.3"),
            ("2300", "2.3"),  # a bare number above 100 is MHz
            ("2,6 GHz", "2.6"),
            ("2.666 GHz", "2.67"),
            ("3200000000", "3.2"),  # a bare number above 1,000,000 is Hz
            ("Intel(R) Core(TM) i7-9750H CPU @ 2.60GHz", "2.6"),
        ],
    )
    def test_formats(self, raw, expected):
        assert mapped_field("cpuSpeed", raw) == expected

    @pytest.mark.parametrize(
        "raw",
        [
            "fast",
            "0",
            True,
            "GHz",
            "-1 GHz",
            0,
            -0.0,
            -2.3,
            10**40,
            10**39,
            "9" * 40,
            1e308,
            float("inf"),
            0.001,
        ],
    )
    def test_invalid_is_left_unwritten(self, raw):
        unwritten("cpuSpeed", raw)

    def test_forty_digits_no_longer_stop_the_device(self):
        # Regression: Decimal.quantize raised decimal.InvalidOperation and failed the whole plan.
        for raw in (int("1" * 40), "1" * 40, "1" * 39 + ".5", 1e40):
            assert "is not a plausible processor speed" in unwritten("cpuSpeed", raw)
            assert "is not a plausible memory size" in unwritten("ram", raw)
        assert "is not a plausible processor speed" in unwritten("cpuSpeed", "1" * 40 + " MHz")
        assert "is not a plausible memory size" in unwritten("ram", "1" * 40 + " TB")


class TestRam:
    @pytest.mark.parametrize(
        ("raw", "expected"),
        [
            ("16 GB", "16"),
            ("16GB", "16"),
            ("16384 MB", "16"),
            ("17179869184", "16"),  # bytes
            ("16", "16"),
            (16, "16"),
            (8.5, "8.5"),
            ("1536 MB", "1.5"),
            ("24 GiB", "24"),
            ("1 TB", "1024"),
            ("12.34 GB", "12.3"),
        ],
    )
    def test_formats(self, raw, expected):
        assert mapped_field("ram", raw) == expected

    @pytest.mark.parametrize(
        "raw", ["lots", "0 GB", "1 KB", [16], {"value": {"x": 1}}, float("nan"), -16, 2**200, "5 PB"]
    )
    def test_invalid_is_left_unwritten(self, raw):
        unwritten("ram", raw)


class TestRecord:
    @pytest.mark.parametrize(
        ("record", "message"),
        [
            (
                {"facts": {"device_name": "Ann's Mac"}},
                "device 'Ann's Mac' (agent id none): agentid: missing or not text: None",
            ),
            (
                {"agentid": "", "facts": {}},
                "device '<unnamed device>' (agent id none): agentid: missing or not text: ''",
            ),
            ({"agentid": 42}, "agentid: missing or not text: 42"),
            ({"agentid": 10**5000}, "agentid: missing or not text: <a number of 5001 digits>"),
            ({"agentid": "a\nb"}, "deviceIdentifier: agent id contains control characters"),
            ({"agentid": "\x1cab"}, "deviceIdentifier: agent id contains control characters"),
            ({"agentid": "a" * 101}, "deviceIdentifier: agent id is longer than 100 characters"),
            ({"agentid": AGENT, "policy_id": 10**5000}, "policy_id: not a policy id"),
            ({"agentid": AGENT, "policy_ids": "pol-1"}, "policy_ids: expected a list"),
            ({"agentid": AGENT, "policy_id": {"id": 1}}, "policy_id: not a policy id"),
            ("not a dict", "device '<not a device record>' (agent id none): device: expected an object"),
        ],
    )
    def test_bad_records(self, record, message):
        with pytest.raises(DeviceMappingError) as excinfo:
            map_device(record)
        assert message in str(excinfo.value)

    @pytest.mark.parametrize("facts", [["x"], "x", 7, True])
    def test_facts_that_are_not_an_object_read_as_no_facts(self, facts):
        device = map_device({"agentid": AGENT, "facts": facts})
        assert device.name == AGENT
        assert device.warnings[0].startswith("facts: expected an object")

    def test_a_missing_or_null_serial_number_warns(self):
        for facts in ({"device_name": "Mac"}, {"device_name": "Mac", "serial_number": None}):
            device = map_device({"agentid": AGENT, "facts": facts})
            assert device.warnings == (
                "serialNumber: no serial number (fact 'serial_number' is missing or null); not written",
            )

    def test_the_name_falls_back_to_a_serial_cut_to_the_name_maximum(self):
        device = map_device({"agentid": AGENT, "facts": {"serial_number": "S" * 200}})
        assert device.name == "S" * 100 and device.fields["serialNumber"] == "S" * 200

    def test_policy_ids_are_merged_and_deduplicated(self):
        device = map_device({"agentid": AGENT, "policy_id": "pol-1", "policy_ids": ["pol-2", "pol-1", 7]})
        assert device.policy_ids == ("pol-1", "pol-2", "7")

    def test_agentid_is_trimmed_but_otherwise_kept_as_is(self):
        device = map_device({"agentid": f"  {AGENT.upper()} "})
        assert device.agentid == AGENT.upper()
        assert device.fields["deviceIdentifier"] == AGENT.upper()

    def test_no_facts_at_all_is_named_after_the_agent_id(self):
        device = map_device({"agentid": AGENT})
        assert device.fields == {
            "name": AGENT,
            "deviceIdentifier": AGENT,
            "managementLink": f"https://app.addigy.com/devices/{AGENT}",
        }
        assert device.warnings == (
            "serialNumber: no serial number (fact 'serial_number' is missing or null); not written",
            "name: no device name (fact 'device_name'); a new configuration is named after its agent id, "
            "an existing one keeps its name",
        )

    def test_custom_mapping_and_switched_off_fields(self):
        device = map_device(
            {
                "agentid": AGENT,
                "facts": {
                    "device_name": "Mac",
                    "hw_serial": "SER1",
                    "serial_number": "OTHER",
                    "current_user": "x",
                },
            },
            {"name": "device_name", "serialNumber": "hw_serial", "lastLoginName": None},
        )
        assert device.fields["serialNumber"] == "SER1"
        assert "lastLoginName" not in device.fields

    def test_unknown_mapping_field_is_a_programming_error(self):
        with pytest.raises(ValueError, match="not a mapped ConnectWise field"):
            map_device({"agentid": AGENT}, {"deviceIdentifier": "udid"})

    def test_template_and_agent_ids_with_odd_characters(self):
        device = map_device(
            {"agentid": "a/b c"}, management_link_template="https://mdm.example/d/{agentid}?x=1"
        )
        assert device.fields["managementLink"] == "https://mdm.example/d/a%2Fb%20c?x=1"


def test_render_management_link_and_template_problems():
    assert (
        render_management_link("https://app.addigy.com/devices/{agentid}", "abc")
        == "https://app.addigy.com/devices/abc"
    )
    assert management_link_template_problem("https://app.addigy.com/devices/{agentid}") is None
    assert management_link_template_problem(None) == "must be text, got NoneType"


def test_error_text_escapes_the_device_label():
    error = DeviceMappingError("Evil\nINFO fake", "agent-1", "name", "bad")
    assert str(error) == "device 'Evil\\nINFO fake' (agent id agent-1): name: bad"
    assert (error.device_label, error.agentid, error.field, error.message) == (
        "Evil\nINFO fake",
        "agent-1",
        "name",
        "bad",
    )
