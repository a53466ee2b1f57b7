"""The start-up caches change nothing an app or a test can see, only how often work runs."""

from __future__ import annotations

import pytest

from app.devtools.smart_auth_keys import SIGNING_KID
from app.library.loader import LibraryError, load_library
from tests.library.helpers import good_module, write_library, write_yaml
from tests.support.app_startup import StartupCache, rsa_key_per_kid


def test_each_load_is_an_equal_private_copy(tmp_path):
    content = write_library(tmp_path)
    cache = StartupCache()
    first, second = cache.load_library(content), cache.load_library(content)
    assert first == second == load_library(content)
    module_id = next(iter(first.modules))
    first.modules[module_id]["title"]["en"] = "changed by one test"
    assert second.modules[module_id]["title"]["en"] != "changed by one test"
    assert cache.load_library(content).modules[module_id]["title"]["en"] != "changed by one test"


def test_edited_content_is_loaded_again(tmp_path):
    content = write_library(tmp_path)
    cache = StartupCache()
    cache.load_library(content)
    module = good_module()
    module["title"]["en"] = "A title edited by the test"
    write_yaml(content / "modules" / f"{module['id']}.yaml", module)
    assert cache.load_library(content).modules[module["id"]]["title"] == module["title"]


def test_a_failed_load_is_not_kept(tmp_path):
    content = write_library(tmp_path)
    module = good_module()
    broken = {key: value for key, value in module.items() if key != "title"}
    write_yaml(content / "modules" / f"{module['id']}.yaml", broken)
    cache = StartupCache()
    with pytest.raises(LibraryError):
        cache.load_library(content)
    write_yaml(content / "modules" / f"{module['id']}.yaml", module)
    assert cache.load_library(content).modules[module["id"]]["title"] == module["title"]


def test_the_index_is_compiled_once_per_content(tmp_path):
    cache = StartupCache()
    content = write_library(tmp_path)
    first = cache.compile_library(cache.load_library(content))
    assert cache.compile_library(cache.load_library(content)) is first
    other = cache.compile_library(load_library(content))  # not loaded through the cache
    assert other is not first
    assert other.by_code == first.by_code


def test_each_demo_key_id_is_generated_once_and_handed_out_as_copies():
    calls = []

    def generate(kid, alg):
        calls.append(kid)
        return {"kid": kid, "alg": alg, "d": f"private-{len(calls)}"}

    rsa_key = rsa_key_per_kid(generate)
    first, second = rsa_key(SIGNING_KID, "RS256"), rsa_key(SIGNING_KID, "RS256")
    assert first == second and first is not second
    assert rsa_key("another-kid", "RS384")["d"] != first["d"]
    assert calls == [SIGNING_KID, "another-kid"]
