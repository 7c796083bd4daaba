"""The sandbox's file system as data (grading/core/sandbox.py: Mount, sandbox_mounts, bwrap_arguments): unit tests."""

import pytest

from grading.core import sandbox
from grading.core.sandbox import Host, Limits, Mount, bwrap_arguments, mount_arguments, sandbox_mounts

#: A machine whose /lib64 is a folder and whose site-packages lacks numpy.libs.
HOST = Host(prefix="/opt/py/3.11", site="/venv/site", version="python3.11",
            system_links=(("/bin", "usr/bin"), ("/lib", "usr/lib"), ("/lib64", None)),
            etc_files=("/etc/ld.so.cache", "/etc/localtime"), hidden=("/usr/lib/python3", "/usr/local/lib"),
            site_entries=frozenset({"numpy", "torch"}))

#: bubblewrap's mount arguments for the "numpy" policy on HOST, written out by hand.
NUMPY_ON_HOST = [
    "--ro-bind", "/usr", "/usr",
    "--symlink", "usr/bin", "/bin",
    "--symlink", "usr/lib", "/lib",
    "--ro-bind", "/lib64", "/lib64",
    "--ro-bind", "/etc/ld.so.cache", "/etc/ld.so.cache",
    "--ro-bind", "/etc/localtime", "/etc/localtime",
    "--tmpfs", "/usr/lib/python3", "--remount-ro", "/usr/lib/python3",
    "--tmpfs", "/usr/local/lib", "--remount-ro", "/usr/local/lib",
    "--perms", "0755", "--dir", "/opt",
    "--perms", "0755", "--dir", "/opt/py",
    "--ro-bind", "/opt/py/3.11", "/opt/py/3.11",
    "--tmpfs", "/opt/py/3.11/lib/python3.11/site-packages",
    "--remount-ro", "/opt/py/3.11/lib/python3.11/site-packages",
    "--perms", "0755", "--dir", "/sbx",
    "--perms", "0755", "--dir", "/sbx/site",
    "--perms", "0755", "--dir", "/home",
    "--ro-bind", "/venv/site/numpy", "/sbx/site/numpy",
    "--ro-bind", "/job/lib", "/sbx/lib",
    "--dev", "/dev",
    "--proc", "/proc",
    "--ro-bind", "/dev/null", "/proc/keys",
    "--ro-bind", "/dev/null", "/proc/key-users",
    "--perms", "1777", "--size", "1048576", "--tmpfs", "/tmp",
    "--perms", "1777", "--size", "1048576", "--tmpfs", "/home/student",
    "--remount-ro", "/",
]


def test_the_mounts_render_to_the_arguments_written_by_hand():
    mounts = sandbox_mounts("numpy", "/job/lib", Limits(tmp_bytes=2**20), HOST)
    assert bwrap_arguments(mounts) == NUMPY_ON_HOST


def test_the_torch_policy_binds_its_packages_that_exist_and_nothing_else_changes():
    numpy = bwrap_arguments(sandbox_mounts("numpy", "/job/lib", Limits(tmp_bytes=2**20), HOST))
    torch = bwrap_arguments(sandbox_mounts("torch", "/job/lib", Limits(tmp_bytes=2**20), HOST))
    at = numpy.index("/sbx/site/numpy") + 1
    assert torch == numpy[:at] + ["--ro-bind", "/venv/site/torch", "/sbx/site/torch"] + numpy[at:]


def test_the_private_folders_are_as_large_as_the_session_s_limits_say():
    for size in (2**20, 3 * 2**20):
        mounts = sandbox_mounts("numpy", "/job/lib", Limits(tmp_bytes=size), HOST)
        sizes = {mount.target: mount.size for mount in mounts if mount.kind == "tmpfs" and mount.size is not None}
        assert sizes == {"/tmp": size, "/home/student": size}


def test_the_module_s_table_is_the_table_of_the_mounts():
    table = sandbox.mount_table(sandbox.documented_mounts())
    assert table in sandbox.__doc__, "the module docstring's table differs from mount_table(documented_mounts())"
    assert len(table.splitlines()) == len(sandbox.documented_mounts()) + 4


def test_the_command_line_on_this_machine_holds_the_rendered_mounts_in_one_piece():
    if sandbox.bwrap_path() is None:
        pytest.skip("bubblewrap is not installed")
    limits = Limits(tmp_bytes=5 * 2**20, processes=7)
    command = sandbox.sandbox_command("numpy", "/job/lib", uid=12345, limits=limits)
    mounts = bwrap_arguments(sandbox_mounts("numpy", "/job/lib", limits))
    start = command.index("--ro-bind")
    assert command[start:start + len(mounts)] == mounts
    assert command[start + len(mounts):start + len(mounts) + 2] == ["--chdir", "/home/student"]
    assert "--nproc=7:7" in command


@pytest.mark.parametrize("mount, message", [
    (dict(kind="overlay", target="/x"), "unknown mount kind"),
    (dict(kind="ro-bind", target="/x"), "needs a source"),
    (dict(kind="proc", target="/proc", size=10), "for tmpfs and dir"),
])
def test_a_mount_that_bubblewrap_could_not_make_is_refused_by_name(mount, message):
    with pytest.raises(ValueError, match=message):
        Mount(**mount)


def test_a_read_only_tmpfs_is_remounted_after_it_is_made():
    assert mount_arguments(Mount("tmpfs", "/h", read_only=True)) == ["--tmpfs", "/h", "--remount-ro", "/h"]
