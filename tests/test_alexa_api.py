"""The local Alexa API when its client hangs up: no traceback, and stopping ends a held answer at once."""
from __future__ import annotations

import socket
import struct
import threading
import time

import pytest

from simulator.alexa_api import REMINDERS_PATH, AlexaApi

REQUEST = (f"POST {REMINDERS_PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
           "Content-Length: 2\r\n\r\n{}").encode()


def hang_up(endpoint: str) -> None:
    """Send a reminder request, then reset the connection, as a client that timed out does."""
    host, port = endpoint.removeprefix("http://").rsplit(":", 1)
    sock = socket.create_connection((host, int(port)), timeout=5)
    sock.sendall(REQUEST)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))   # close sends RST
    sock.close()


def wait_for_calls(api: AlexaApi, count: int) -> None:
    for _ in range(200):
        if len(api.calls) >= count:
            return
        time.sleep(0.02)
    raise AssertionError(f"the API answered {len(api.calls)} calls, not {count}")


def test_a_client_that_hung_up_before_the_held_answer_gets_no_traceback(capfd: pytest.CaptureFixture[str]):
    with AlexaApi(reminders_status="timeout", hold_s=0.3) as api:
        hang_up(api.endpoint)
        wait_for_calls(api, 1)
        time.sleep(0.1)   # the write that finds the socket closed
    assert api.calls == [("POST", "reminder", 504)]
    err = capfd.readouterr().err
    assert "Traceback" not in err and "Exception occurred" not in err, err


def test_stopping_the_api_ends_a_held_answer_at_once(capfd: pytest.CaptureFixture[str]):
    api = AlexaApi(reminders_status="timeout", hold_s=60).start()
    hang_up(api.endpoint)
    time.sleep(0.2)   # the handler is holding its answer
    stopper = threading.Thread(target=api.stop)
    stopper.start()
    stopper.join(timeout=10)
    assert not stopper.is_alive()
    wait_for_calls(api, 1)   # the held 504 went out (to nobody) when stop() woke it, not after 60 s
    time.sleep(0.1)
    err = capfd.readouterr().err
    assert "Traceback" not in err and "Exception occurred" not in err, err
