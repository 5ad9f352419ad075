"""API keys (plain or sha256) and the settings that refuse an open server on the network."""

import hashlib

import pytest

from features.errors import SettingError
from serve.api.auth import ApiKeys
from serve.api.settings import load_settings


def test_plain_and_hashed_keys_are_accepted_and_nothing_else():
    hashed = "sha256:" + hashlib.sha256(b"second-key").hexdigest()
    keys = ApiKeys(["first-key", hashed])
    assert keys.required
    assert keys.accepts("first-key") and keys.accepts("second-key")
    for wrong in (None, "", "first-key ", "FIRST-KEY", hashed, "second"):
        assert not keys.accepts(wrong)


def test_without_keys_everything_is_accepted():
    keys = ApiKeys([])
    assert not keys.required and keys.accepts(None)


def test_keys_come_comma_separated_from_the_environment(monkeypatch):
    monkeypatch.setenv("LEADSCORE_API_KEYS", " a1 , b2,,")
    assert load_settings().api_key_list == ["a1", "b2"]


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.20", "::", "leads.example.com"])
def test_a_network_host_without_keys_is_refused(monkeypatch, host):
    monkeypatch.delenv("LEADSCORE_API_KEYS", raising=False)
    with pytest.raises(SettingError, match="LEADSCORE_API_KEYS is empty"):
        load_settings(host=host)
    monkeypatch.setenv("LEADSCORE_API_KEYS", "k")
    assert load_settings(host=host).host == host


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "::1", "127.0.0.2"])
def test_loopback_without_keys_is_allowed(monkeypatch, host):
    monkeypatch.delenv("LEADSCORE_API_KEYS", raising=False)
    assert not load_settings(host=host).api_key_list


def test_a_malformed_hash_and_a_bad_number_are_one_line_errors(monkeypatch):
    monkeypatch.setenv("LEADSCORE_API_KEYS", "sha256:abc")
    with pytest.raises(SettingError, match="64 hex digits"):
        load_settings()
    monkeypatch.delenv("LEADSCORE_API_KEYS")
    monkeypatch.setenv("LEADSCORE_MAX_LEADS_PER_REQUEST", "many")
    with pytest.raises(SettingError, match="LEADSCORE_MAX_LEADS_PER_REQUEST"):
        load_settings()
