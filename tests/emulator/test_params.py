"""Rails bracket parameters from every encoding, merged into one hash."""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx
import pytest

from desktop_app.emulator import Emulator
from desktop_app.emulator.params import ParamsError, nest_pairs, parse_params


def test_brackets_nest_into_hashes_and_lists() -> None:
    nested = nest_pairs([
        ("properties[plan]", "Pro"),
        ("properties[features_array][]", "a"),
        ("properties[features_array][]", "b"),
        ("created[gt]", "1"),
        ("created[lte]", "9"),
        ("end_user[properties][tier]", "gold"),
        ("emails[]", "x@y.z"),
        ("plain", "v"),
        ("weird]key[", "kept"),
    ])
    assert nested == {
        "properties": {"plan": "Pro", "features_array": ["a", "b"]},
        "created": {"gt": "1", "lte": "9"},
        "end_user": {"properties": {"tier": "gold"}},
        "emails": ["x@y.z"],
        "plain": "v",
        "weird]key[": "kept",
    }


def test_body_wins_over_query_and_hashes_merge() -> None:
    params = parse_params(
        "properties[a]=query&page=2&keep=1",
        b"properties[b]=body&page=3",
        "application/x-www-form-urlencoded",
    )
    assert params == {"properties": {"a": "query", "b": "body"}, "page": "3", "keep": "1"}


def test_empty_value_and_plus_decoding() -> None:
    assert parse_params("properties=&email=a%2Bb%40c.de&name=two+words", b"", None) == {
        "properties": "", "email": "a+b@c.de", "name": "two words"}


def test_multipart_and_json_bodies() -> None:
    boundary = "XyZ"
    body = (
        f"--{boundary}\r\nContent-Disposition: form-data; name=\"properties[plan]\"\r\n\r\n"
        f"Pro\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"email\"\r\n\r\n"
        f"zoë@example.com\r\n--{boundary}--\r\n"
    ).encode()
    assert parse_params("", body, f"multipart/form-data; boundary={boundary}") == {
        "properties": {"plan": "Pro"}, "email": "zoë@example.com"}
    typed = parse_params("page=1", json.dumps({"properties": {"n": 3, "ok": True}}).encode(),
                         "application/json")
    assert typed == {"page": "1", "properties": {"n": 3, "ok": True}}


@pytest.mark.parametrize(("body", "content_type"), [
    (b"{not json", "application/json"),
    (b"[1, 2]", "application/json"),
    (b"--x\r\nbroken", "multipart/form-data"),
])
def test_unreadable_bodies_raise(body: bytes, content_type: str) -> None:
    with pytest.raises(ParamsError):
        parse_params("", body, content_type)


def _first_id(emu: Emulator) -> int:
    return min(emu.store.all_ids())


@pytest.mark.parametrize("encoding", ["query", "form", "multipart", "json"])
def test_update_reads_properties_from_every_encoding(
    emulator: Emulator, api_client: Callable[..., httpx.Client], encoding: str,
) -> None:
    http = api_client(emulator)
    end_user_id = _first_id(emulator)
    fields = {"properties[plan]": "Pro", "properties[features_array][]": ["a", "b"],
              "external_id": f"ext-{encoding}"}
    url = f"/v1/end_users/{end_user_id}"
    if encoding == "query":
        reply = http.put(url, params=fields)
    elif encoding == "form":
        reply = http.put(url, data=fields)
    elif encoding == "multipart":
        # a file part forces multipart; the data fields ride along as form-data parts
        reply = http.put(url, data=fields, files={"ignored": ("f.txt", b"x")})
    else:
        reply = http.put(url, json={"properties": {"plan": "Pro", "features_array": ["a", "b"]},
                                    "external_id": f"ext-{encoding}"})
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert body["properties"] == {"plan": "Pro", "features_array": ["a", "b"]}
    assert body["external_id"] == f"ext-{encoding}"
    stored = emulator.store.get(end_user_id)
    assert stored is not None and stored["properties"] == body["properties"]


def test_json_suffix_on_resource_paths(
    emulator: Emulator, api_client: Callable[..., httpx.Client],
) -> None:
    http = api_client(emulator)
    end_user_id = _first_id(emulator)
    assert http.get("/v1/end_users.json").json() == http.get("/v1/end_users").json()
    assert http.get(f"/v1/end_users/{end_user_id}.json").json()["id"] == end_user_id


def test_bad_json_body_is_a_400_error_list(
    emulator: Emulator, api_client: Callable[..., httpx.Client],
) -> None:
    reply = api_client(emulator).post("/v1/end_users", content=b"{oops",
                                      headers={"Content-Type": "application/json"})
    assert reply.status_code == 400
    assert reply.json()["type"] == "error_list"
