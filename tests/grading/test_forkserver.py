"""The fork server: imports paid once, and every forked student process isolated as a fresh sandbox is.

The attack suite (``attacks/``) runs every hostile cell in forked sandboxes too; these tests cover what is
particular to forking: what the zygote imported is there, and nothing of the zygote, of the other slots or of
an earlier student leaks into a forked process.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from autograder.forkserver import PREFIX, ForkServer, ForkServerError, _identity, forkserver_available
from autograder.grade import share_cores
from autograder.grading import GradingOptions
from autograder.pool import WarmPool
from autograder.sandbox import Limits, Sandbox, SandboxError

pytestmark = pytest.mark.skipif(
    not forkserver_available(), reason="a fork server needs root and bubblewrap (the attack suite insists on both)"
)


@pytest.fixture(scope="module")
def server():
    with ForkServer(["numpy", "json"]) as server:
        yield server


def run(box: Sandbox, source: str) -> dict:
    result = box.exec(source + "\nimport json as _json\nprint(_json.dumps(REPORT))", cell="probe")
    assert result.ok, result.error
    return json.loads(result.stdout)


def test_the_zygote_imports_once_and_forked_processes_start_with_it(server):
    assert set(server.imported) == {"numpy", "json"}
    assert all(isinstance(seconds, float) for seconds in server.imported.values())
    with Sandbox(forkserver=server) as box:
        report = run(box, "import sys\nREPORT = {'numpy': 'numpy' in sys.modules, 'tensorflow': 'tensorflow' in sys.modules}")
    assert report == {"numpy": True, "tensorflow": False}


def test_a_forked_process_has_its_own_uid_pids_and_no_capability(server):
    source = (
        "import os\n"
        "status = dict(line.split(':', 1) for line in open('/proc/self/status'))\n"
        "caps = {key: int(status[key], 16) for key in ('CapInh', 'CapPrm', 'CapEff', 'CapBnd', 'CapAmb')}\n"
        "REPORT = {'uid': os.getuid(), 'gid': os.getgid(), 'groups': os.getgroups(), 'caps': caps,\n"
        "          'no_new_privs': status['NoNewPrivs'].strip(), 'pids': sorted(int(p) for p in os.listdir('/proc') if p.isdigit()),\n"
        "          'home': os.getcwd(), 'user': open('/etc/passwd').read().split()[-1].split(':')[0]}\n"
    )
    with Sandbox(forkserver=server) as first, Sandbox(forkserver=server) as second:
        one, two = run(first, source), run(second, source)
        assert one["uid"] == first.user_id and two["uid"] == second.user_id and one["uid"] != two["uid"]
    for report in (one, two):
        assert report["gid"] == report["uid"] and report["groups"] == []
        assert set(report["caps"].values()) == {0}
        assert report["no_new_privs"] == "1"
        assert report["pids"] == [1, 2]  # its own pid namespace: init and the runner, nothing of the zygote's
        assert report["home"] == "/home/student" and report["user"] == "student"


def test_slots_of_other_students_tmp_and_ipc_of_earlier_ones_are_out_of_reach(server):
    with Sandbox(forkserver=server) as alice:
        (alice.workdir / "answer.txt").write_text("alice's work")
        leave = (
            "import os, socket, mmap\n"
            "open('/tmp/left-behind', 'w').write('x')\n"
            "open('/dev/shm/left-behind', 'w').write('x')\n"
            "listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)\n"
            "listener.bind('\\0autograder-leak'); listener.listen()\n"
            "REPORT = sorted(os.listdir('/home/student'))\n"
        )
        assert run(alice, leave) == ["answer.txt"]
        with Sandbox(forkserver=server) as bob:
            look = (
                "import os, socket, glob\n"
                "found = glob.glob('/run/slots/**', recursive=True) + glob.glob('/dev/shm/*')\n"
                "found += glob.glob('/tmp/**/left-behind', recursive=True)  # (a checkout in /tmp shows its folders)\n"
                "found += [p for top in ('/home', '/run', '/tmp', '/etc') for p in glob.glob(top + '/**/answer.txt', recursive=True)]\n"
                "client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)\n"
                "try:\n    client.connect('\\0autograder-leak'); reached = True\n"
                "except OSError:\n    reached = False\n"
                "REPORT = {'found': found, 'reached': reached, 'home': os.listdir('/home/student')}\n"
            )
            assert run(bob, look) == {"found": ["/run/slots/"], "reached": False, "home": []}


def test_no_descriptor_of_the_zygote_reaches_student_code(server):
    source = (
        "import os\n"
        "REPORT = []\n"
        "for fd in os.listdir('/proc/self/fd'):\n"
        "    try:\n        REPORT.append(os.readlink(f'/proc/self/fd/{fd}').split(':')[0])\n"
        "    except FileNotFoundError:\n        pass  # listdir's own descriptor\n"
        "REPORT.sort()\n"
    )
    with Sandbox(forkserver=server) as forked, Sandbox() as started:
        assert run(forked, source) == run(started, source)  # the same pipes and files as a fresh runner's
    assert "socket" not in run(Sandbox(forkserver=server), source)


def test_exit_statuses_and_restarts_come_from_the_zygote(server):
    with Sandbox(forkserver=server) as box:
        assert box.exec("x = 41").ok
        died = box.exec("import os\nos.kill(os.getpid(), 9)")
        assert died.status == "died"
        assert died.error == "The submission's process was killed (SIGKILL: a resource limit, CPU time or memory, most likely)."
        box.restart()
        assert box.exec("x").status == "error"  # a fresh namespace, forked again
        assert box.exec("import sys\nassert 'numpy' in sys.modules").ok


def test_a_dead_zygote_costs_the_running_process_and_is_started_again():
    with ForkServer(["numpy"]) as server:
        box = Sandbox(forkserver=server)
        assert box.exec("y = 1").ok
        os.killpg(server._process.pid, 9)  # noqa: SLF001 - as the kernel's OOM killer might
        deadline = time.monotonic() + 30
        while box.alive and time.monotonic() < deadline:
            time.sleep(0.05)
        result = box.exec("y", timeout=10)
        assert result.status == "died"
        assert result.error == "The submission's process was killed (SIGKILL: a resource limit, CPU time or memory, most likely)."
        box.restart()  # a new zygote, a new process
        assert server.alive
        assert box.exec("y = 2\nprint(y)").stdout == "2\n"
        box.close()


def test_misuse_is_refused_with_a_reason(server, tmp_path):
    with pytest.raises(SandboxError, match="needs the sandbox and root"):
        Sandbox(forkserver=server, unsafe_no_sandbox=True)
    with pytest.raises(ValueError, match="not one of this server's slots"):
        server.spawn(tmp_path, 2_100_000_001, {}, {"tmp_bytes": 1 << 20})


def test_a_zygote_that_cannot_start_says_so(tmp_path):
    with pytest.raises(ForkServerError, match="did not answer within|stopped"):
        ForkServer(["time"], limits=Limits(start_seconds=0.001))


def test_the_warm_pool_forks_from_one_server_and_shuts_it_down():
    with WarmPool(["numpy"], limits=Limits()) as pool:
        assert pool.server is not None and pool.server.alive
        base = Path(pool.server.slots)
        boxes = [pool.take() for _ in range(3)]
        for box in boxes:
            assert box.exec("import sys\nassert 'numpy' in sys.modules").ok
            box.close()
        assert len({box.user_id for box in boxes}) == 3
    assert not base.exists()
    with WarmPool(["numpy"], forkserver=False) as pool:
        assert pool.server is None
        pool.take().close()


def test_the_namespace_s_init_is_out_of_the_student_s_reach(server):
    source = (
        "import os, signal, time\n"
        "try:\n    os.listdir('/proc/1/fd'); fds = 'readable'\n"
        "except PermissionError:\n    fds = 'denied'\n"
        "for number in (signal.SIGTERM, signal.SIGINT, signal.SIGKILL):\n    os.kill(1, number)\n"
        "time.sleep(0.2)\n"
        "REPORT = {'fds': fds, 'init': open('/proc/1/status').read().split('State:')[1].split()[0]}\n"
    )
    with Sandbox(forkserver=server) as box:
        assert run(box, source) == {"fds": "denied", "init": "S"}
        assert box.alive


def test_folders_of_a_grader_killed_with_kill_9_are_swept_by_the_next_server():
    gone = subprocess.Popen(["true"])
    gone.wait()
    stale = Path(tempfile.mkdtemp(prefix=PREFIX))
    (stale / "owner.json").write_text(json.dumps({"pid": gone.pid, "started": 0.0}))
    (stale / "slots").mkdir()
    alive = Path(tempfile.mkdtemp(prefix=PREFIX))  # a live grader's (this one's): left alone
    (alive / "owner.json").write_text(json.dumps(_identity(os.getpid())))
    try:
        with ForkServer([]):
            assert not stale.exists()
            assert alive.exists()
    finally:
        shutil.rmtree(alive, ignore_errors=True)
        shutil.rmtree(stale, ignore_errors=True)


def test_a_fresh_tmp_keeps_the_mounts_under_it(tmp_path):
    """A checkout in /tmp has its virtual environment and the runner's modules mounted under /tmp: the fresh
    /tmp of a forked process must keep them (CI clones into /tmp). Run in a private mount namespace."""
    script = (
        "import os, sys\n"
        "from autograder.zygote import MS_BIND, _fresh_tmpfs, _mount\n"
        "base, kept = sys.argv[1], sys.argv[2]\n"
        "_mount('tmpfs', base, 'tmpfs', 0, 'size=1m')\n"
        "os.makedirs(base + '/checkout/venv'); open(base + '/old-file', 'w').close()\n"
        "_mount(kept, base + '/checkout/venv', None, MS_BIND)\n"
        "os.mkdir(base + '/stage-parent'); _mount('tmpfs', base + '/stage-parent', 'tmpfs', 0, 'size=64k')\n"
        "stage_root = base + '-stage'; os.mkdir(stage_root); _mount('tmpfs', stage_root, 'tmpfs', 0, 'size=64k')\n"
        "_fresh_tmpfs(base, 1 << 20, stage=stage_root + '/tmp')\n"
        "print(sorted(os.listdir(base)), os.listdir(base + '/checkout/venv'))\n"
    )
    kept = tmp_path / "venv"
    kept.mkdir()
    (kept / "python").write_text("")
    base = tmp_path / "tmp"
    base.mkdir()
    done = subprocess.run(
        ["unshare", "--mount", "--propagation", "private", sys.executable, "-c", script, str(base), str(kept)],
        capture_output=True, text=True, timeout=60, check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == "['checkout', 'stage-parent'] ['python']\n"  # old-file gone, both mounts kept


def test_student_processes_get_the_thread_cap_the_grader_shares_out():
    cores = len(os.sched_getaffinity(0))
    assert share_cores(GradingOptions(), 2, None).threads == max(1, cores // 2)
    assert share_cores(GradingOptions(), 1, None).threads == cores
    assert share_cores(GradingOptions(threads=3), 2, None).threads == 3  # the instructor's choice stands
    assert share_cores(GradingOptions(), 2, "tcp://scheduler:8786").threads is None  # its machines are not ours
    env = GradingOptions(threads=1).environment()
    assert env["OMP_NUM_THREADS"] == "1" and env["TF_NUM_INTRAOP_THREADS"] == "1"
    with pytest.raises(ValueError, match="threads must be at least 1"):
        GradingOptions(threads=0).environment()
    for forkserver in (True, False):  # imported in the zygote, or in the student's own process
        with WarmPool(["torch"], env=env, forkserver=forkserver) as pool, pool.take() as box:
            result = box.exec("import os, torch\nprint(torch.get_num_threads(), os.environ['OMP_NUM_THREADS'])")
            assert result.stdout == "1 1\n", result.error
