import pytest

import harness


@pytest.fixture(scope="module")
def server():
    """One server per test module, on a free port with its own temp data dir."""
    s = harness.Server()
    try:
        s.start()
        yield s
        if harness.is_kinesalite():
            return
        assert s.alive(), f"server died during the tests; stderr:\n{s.stderr_tail()}"
        rc = s.stop()
        assert rc == 0, f"server exited with {rc} on SIGTERM; stderr:\n{s.stderr_tail()}"
    finally:
        s.cleanup()


@pytest.fixture(scope="module")
def client(server):
    return server.client()


def pytest_configure(config):
    config.addinivalue_line("markers", "streamlake_only: needs the real server (auth, durability)")


def pytest_collection_modifyitems(config, items):
    if harness.is_kinesalite():
        skip = pytest.mark.skip(reason="SL_TEST_PEER=kinesalite: needs streamlake")
        for item in items:
            if "streamlake_only" in item.keywords:
                item.add_marker(skip)
