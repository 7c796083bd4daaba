"""Reading what students hand in: plain files only, never through a link, never past a size cap.

A student on a shared server can put into their hand-in what no upload form would carry: a
symlink (to the course's ``source/``, to ``/dev/zero``), a FIFO that blocks whoever opens it, a
device, a folder nested a thousand deep, or a zip whose few kilobytes unpack to gigabytes. Every
reader of student files (``make collect``, ``nbgrader collect`` through
:mod:`grading.course.exchange_collect`, the pre-flight of ``make autograde``) goes through here:

* :func:`open_regular` opens with ``O_NOFOLLOW | O_NONBLOCK`` after an ``lstat``, and checks
  with ``fstat`` that what it opened is the regular file it looked at: a link is never followed,
  a FIFO never waited on, a device never read.
* :func:`read_capped` reads at most one byte past its cap, whatever the file (or a zip member)
  claims its size to be.
* :func:`read_tree` reads a whole folder through descriptors (``openat``), so that a folder
  swapped for a link while it is read is refused too. It adds up the sizes with ``lstat``
  before it reads any file, and leaves out a file with more than one hard link (one large file
  linked a thousand times costs its owner no disk, but each link would be read).

Each refusal is a :class:`Refused` whose text names the cause ("is a symlink, not a file").
"""

import fnmatch
import os
import stat

from grading.core.engine import MAX_NOTEBOOK_BYTES

#: Largest hand-in of one student for one assignment, all files together, uncompressed (six
#: notebooks with figures take a few MB).
MAX_UPLOAD_BYTES = 64 * 2**20
#: Most files and folders in one hand-in (six notebooks and nbgrader's two bookkeeping files).
MAX_FILES = 200
#: Deepest folder in one hand-in.
MAX_DEPTH = 8

_OPEN_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC
_DIR_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_DIRECTORY | os.O_CLOEXEC
_CHUNK = 2**20


class Refused(Exception):
    """A file or folder that is not taken; ``str()`` says why ("is a symlink, not a file")."""


class TooMuch(Refused):
    """A whole hand-in over a limit: too many bytes, files or levels of folders."""


def megabytes(size):
    """A size in words: ``25 MB``, ``25.1 MB``, ``12 kB``."""
    if size < 2**20:
        return f"{size / 2**10:.0f} kB"
    return f"{size / 2**20:.0f} MB" if size % 2**20 == 0 else f"{size / 2**20:.1f} MB"


def kind(mode):
    """What a file of this mode is, in words ("a symlink"), or None for a regular file or a folder."""
    if stat.S_ISREG(mode) or stat.S_ISDIR(mode):
        return None
    if stat.S_ISLNK(mode):
        return "a symlink"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def not_a_file(mode):
    """Why an entry of this mode is not read as a file, or None for a regular file."""
    if stat.S_ISREG(mode):
        return None
    return "is a folder, not a file" if stat.S_ISDIR(mode) else f"is {kind(mode)}, not a file"


def lstat(name, dir_fd=None):
    """``os.lstat``, a missing or unreadable entry raised as :class:`Refused`."""
    try:
        return os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    except OSError as error:
        raise Refused(f"cannot be read ({error.strerror})") from None


def open_regular(name, dir_fd=None, limit=MAX_NOTEBOOK_BYTES, owner=None, single_link=False):
    """A descriptor of the regular file ``name``, opened without following a link or blocking.

    Parameters
    ----------
    name : str or os.PathLike
        Relative to ``dir_fd`` when that is given.
    limit : int
        Largest size taken, in bytes.
    owner : int, optional
        The user id that must own the file.
    single_link : bool
        Refuse a file with more than one hard link.

    Returns
    -------
    (int, os.stat_result)
        The descriptor (the caller closes it) and its ``fstat``.

    Raises
    ------
    Refused
        For a symlink, FIFO, device, socket or folder, a file of another owner, or one over ``limit``.
    """
    before = lstat(name, dir_fd)
    why = not_a_file(before.st_mode) or single_link and too_many_links(before)
    if why:
        raise Refused(why)
    try:
        fd = os.open(name, _OPEN_FLAGS, dir_fd=dir_fd)
    except OSError as error:  # ELOOP: it became a link since the lstat
        raise Refused(f"cannot be read ({error.strerror})") from None
    try:
        now = os.fstat(fd)
        if (now.st_dev, now.st_ino) != (before.st_dev, before.st_ino) or not_a_file(now.st_mode):
            raise Refused("was replaced while it was read")
        if owner is not None and now.st_uid != owner:
            raise Refused(f"is owned by {user_name(now.st_uid)}, not by {user_name(owner)}")
        if single_link and too_many_links(now):
            raise Refused(too_many_links(now))
        if now.st_size > limit:
            raise Refused(f"has {megabytes(now.st_size)}, over the limit of {megabytes(limit)}")
    except BaseException:
        os.close(fd)
        raise
    return fd, now


def read_capped(stream, limit):
    """All bytes of a binary stream (or descriptor), refusing it as soon as it passes ``limit``.

    A zip member may claim any size: this reads at most ``limit + 1`` bytes of it, whatever it claims.
    """
    chunks, size = [], 0
    while True:
        chunk = os.read(stream, _CHUNK) if isinstance(stream, int) else stream.read(_CHUNK)
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size > limit:
            raise Refused(f"has more than {megabytes(limit)}, over the limit")
        chunks.append(chunk)


def too_many_links(status):
    """Why a file (its stat) with more than one hard link is refused, or None."""
    if status.st_nlink <= 1:
        return None
    return (f"has {status.st_nlink} hard links (the same file under other names too); only a file "
            "with a single name is taken")


def read_regular(path, limit=MAX_NOTEBOOK_BYTES, dir_fd=None, owner=None, single_link=False):
    """(bytes, os.stat_result) of a regular file; :class:`Refused` for anything else (see :func:`open_regular`)."""
    fd, status = open_regular(path, dir_fd=dir_fd, limit=limit, owner=owner, single_link=single_link)
    try:
        return read_capped(fd, limit), status
    finally:
        os.close(fd)


def user_name(uid):
    """The account name of a user id, or ``uid <n>``."""
    import pwd

    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return f"uid {uid}"


def open_folder(name, dir_fd=None, owner=None):
    """A descriptor of the folder ``name``, never through a link; :class:`Refused` otherwise."""
    before = lstat(name, dir_fd)
    if not stat.S_ISDIR(before.st_mode):
        raise Refused(f"is {kind(before.st_mode) or 'a file'}, not a folder")
    try:
        fd = os.open(name, _DIR_FLAGS, dir_fd=dir_fd)
    except OSError as error:
        raise Refused(f"cannot be read ({error.strerror})") from None
    now = os.fstat(fd)
    if (now.st_dev, now.st_ino) != (before.st_dev, before.st_ino):
        os.close(fd)
        raise Refused("was replaced while it was read")
    if owner is not None and now.st_uid != owner:
        os.close(fd)
        raise Refused(f"is owned by {user_name(now.st_uid)}, not by {user_name(owner)}")
    return fd


def read_tree(fd, owner=None, ignore=(), limit=MAX_UPLOAD_BYTES, file_limit=MAX_NOTEBOOK_BYTES):
    """Every regular file below an open folder, read through descriptors; links are never followed.

    The whole folder is listed and its sizes added up (``lstat``) before any file is read, so a
    hand-in over a limit costs no reading.

    Parameters
    ----------
    fd : int
        An open folder (:func:`open_folder`); it stays open.
    owner : int, optional
        The user id that must own every file and folder.
    ignore : sequence of str
        Glob patterns of names that are skipped (nbgrader's ``CourseDirectory.ignore``).
    limit, file_limit : int
        Largest total and largest single file, in bytes.

    Returns
    -------
    (dict, list)
        {relative path: bytes} of the files taken, and [(relative path, reason)] of the entries
        refused one by one (a symlink, a FIFO, a device, a file of another owner, one too large,
        one with more than one hard link, a name with control characters).

    Raises
    ------
    TooMuch
        When the whole is over ``limit``, :data:`MAX_FILES` or :data:`MAX_DEPTH`.
    """
    folders = []
    try:
        plan, refused = _list_tree(fd, owner, ignore, file_limit, folders)
        total = sum(status.st_size for _, _, _, status in plan)
        if total > limit:
            raise TooMuch(f"holds {megabytes(total)} in all, over the limit of {megabytes(limit)}")
        files, size = {}, 0
        for folder_fd, name, relative, _ in plan:
            try:
                data, _ = read_regular(name, file_limit, folder_fd, owner, single_link=True)
            except Refused as why:
                refused.append((relative, str(why)))
                continue
            size += len(data)
            if size > limit:  # a file grew after it was listed
                raise TooMuch(f"holds more than {megabytes(limit)} in all, over the limit")
            files[relative] = data
    finally:
        for folder_fd in folders:
            os.close(folder_fd)
    return files, sorted(refused)


def _list_tree(fd, owner, ignore, file_limit, folders):
    """([(folder fd, name, relative path, lstat)] of the files to read, [(relative path, why)] refused).

    The descriptors of the sub-folders opened are appended to ``folders`` for the caller to close.
    """
    plan, refused, seen = [], [], [0]

    def walk(folder_fd, prefix, depth):
        for name in sorted(os.listdir(folder_fd)):
            relative = f"{prefix}{name}"
            if any(fnmatch.fnmatch(name, pattern) for pattern in ignore):
                continue
            seen[0] += 1
            if seen[0] > MAX_FILES:
                raise TooMuch(f"holds more than {MAX_FILES} files and folders, over the limit")
            try:
                if not name.isprintable():  # a name that would forge lines of the log
                    relative = f"{prefix}{ascii(name)}"
                    raise Refused("its name holds control characters")
                status = lstat(name, folder_fd)
                if stat.S_ISDIR(status.st_mode):
                    if depth >= MAX_DEPTH:
                        raise TooMuch(f"has folders nested more than {MAX_DEPTH} deep, over the limit")
                    inner = open_folder(name, folder_fd, owner)
                    folders.append(inner)
                    walk(inner, relative + "/", depth + 1)
                    continue
                why = not_a_file(status.st_mode) or too_many_links(status)
                if why:
                    raise Refused(why)
                if owner is not None and status.st_uid != owner:
                    raise Refused(f"is owned by {user_name(status.st_uid)}, not by {user_name(owner)}")
                if status.st_size > file_limit:
                    raise Refused(f"has {megabytes(status.st_size)}, over the limit of {megabytes(file_limit)}")
            except TooMuch:
                raise
            except Refused as why:
                refused.append((relative, str(why)))
                continue
            plan.append((folder_fd, name, relative, status))

    walk(fd, "", 0)
    return plan, refused
