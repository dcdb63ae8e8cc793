from django.test import RequestFactory

from config.http import client_ip


def test_without_proxy_the_socket_address_counts(settings):
    settings.TRUSTED_PROXY_COUNT = 0
    request = RequestFactory().get(
        "/", REMOTE_ADDR="203.0.113.1", HTTP_X_FORWARDED_FOR="198.51.100.2"
    )
    assert client_ip(request) == "203.0.113.1"


def test_behind_one_proxy_the_last_forwarded_entry_counts(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    request = RequestFactory().get(
        "/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="6.6.6.6, 198.51.100.2"
    )
    assert client_ip(request) == "198.51.100.2"


def test_a_missing_header_falls_back_to_the_socket(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.1")
    assert client_ip(request) == "10.0.0.1"
