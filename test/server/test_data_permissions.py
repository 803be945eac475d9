"""The data directory is private: `streamlake serve` creates it with mode 0700, every file it
writes there (credentials, log segments, catalog, streaming checkpoint and state) has no
group or other permissions, and an existing directory open to other users gets a warning.
"""
import os
import shutil
import stat
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "kinesis"))
import harness  # noqa: E402


def test_new_data_dir_and_its_files_are_private():
    parent = tempfile.mkdtemp(prefix="sl-perm-test-")
    os.chmod(parent, 0o755)
    data = os.path.join(parent, "data")
    # The harness writes its stderr log inside the data dir: create it through the server.
    s = harness.Server(data_dir=data)
    s.stderr_path = lambda: os.path.join(parent, "stderr.log")
    old = os.umask(0o022)  # a permissive umask in the environment must not matter
    try:
        s.start()
    finally:
        os.umask(old)
    try:
        assert stat.S_IMODE(os.stat(data).st_mode) == 0o700
        k = s.client()
        harness.create_stream(k, "perm", 1)
        k.put_record(StreamName="perm", PartitionKey="a", Data=b"1,x")
        assert s.stop() == 0
        s.start()
        assert "accessible to other users" not in open(os.path.join(parent, "stderr.log")).read()
        open_files = []
        for root, dirs, files in os.walk(data):
            for name in dirs + files:
                p = os.path.join(root, name)
                if stat.S_IMODE(os.lstat(p).st_mode) & 0o077:
                    open_files.append((p, oct(stat.S_IMODE(os.lstat(p).st_mode))))
        assert not open_files, open_files
        assert any("log" in r for r, _, f in os.walk(data) if f), "the log wrote no files"
    finally:
        s.cleanup()
        shutil.rmtree(parent, ignore_errors=True)


def test_existing_data_dir_open_to_others_gets_a_warning():
    data = tempfile.mkdtemp(prefix="sl-perm-test-")
    os.chmod(data, 0o755)
    s = harness.Server(data_dir=data)
    try:
        s.start()
        assert s.stop() == 0
        err = open(s.stderr_path()).read()
        assert "data directory" in err and "accessible to other users (mode 755)" in err, err
    finally:
        s.cleanup()
        shutil.rmtree(data, ignore_errors=True)
