"""Which names are student ids: everything nbgrader can hold as a folder name and a gradebook key.

Instructors file students by name ("Grace Hopper", "ödön-müller", "O'Brien", "李雷") as often as
by number, so an id may hold any letter, space or punctuation. Refused is only what escapes or
confuses a path, a command line or nbgrader (:func:`why_not_a_student_id` says which and why):

* ``/`` and ``\\`` (a path of more than one folder), a leading ``.`` (``..``, and hidden folders,
  which nbgrader's ``submitted/*`` never sees), a leading ``-`` (an option to a command);
* control characters (a newline forges a log line), line separators and text-direction controls
  (an id that reads as another), and bytes that are not UTF-8 (the gradebook holds text);
* spaces at either end (nbgrader strips them from ``--student``);
* ``*``, ``?`` and ``[`` (nbgrader finds a student's notebooks with a glob of the folder's path)
  and ``,`` (nbgrader's ``student_id_exclude`` is a comma-separated list);
* ``"``, ``<``, ``>``, ``#`` and ``%`` (Formgrader writes ids unescaped into its pages' HTML and
  scripts and into the addresses of its student pages);
* more than 255 bytes in UTF-8 (the longest file name of Linux and macOS).

The same name is one student however its letters are encoded: ids are compared and filed in
Unicode's composed form (NFC, :func:`normal_id`); a folder named in the decomposed form that
macOS writes (NFD) is the same student's.

An apostrophe is an id's like any letter. Only on nbgrader's own command line does an id that
starts and ends with the same quote (``'x'``) lose them, as traitlets reads the value: there,
quote it once more (``--student="\"'x'\""``). This package never passes ids that way
(:func:`nbgrader_exclusion`).
"""

import unicodedata

#: Longest student id in bytes (UTF-8): the longest name of a file or folder.
MAX_ID_BYTES = 255
#: Characters that nbgrader reads as glob patterns (folder paths) or list separators (exclusions).
NBGRADER_SPECIAL = "*?[,"
#: Characters that break Formgrader's pages, which hold ids unescaped in HTML, scripts and addresses.
FORMGRADER_SPECIAL = '"<>#%'
#: Text-direction controls (embeddings, overrides, isolates): they make one id read as another.
DIRECTION_CONTROLS = set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def normal_id(name):
    """The form a student id is filed and compared in: Unicode NFC."""
    return unicodedata.normalize("NFC", name)


def _control(character):
    return unicodedata.category(character) in ("Cc", "Zl", "Zp") or character in DIRECTION_CONTROLS


def why_not_a_student_id(name):
    """Why ``name`` cannot be a student id (a folder of ``submitted/``, say), or None when it can.

    ``name`` as :func:`os.listdir` gives it: bytes that are not UTF-8 arrive as lone surrogates.
    """
    if not name:
        return "it is empty"
    if any(0xD800 <= ord(c) <= 0xDFFF for c in name):
        return "it is not valid UTF-8 text"
    if "/" in name or "\\" in name:
        return "it holds a / or \\ (a path, not one folder)"
    if name.startswith("."):
        return "it starts with a dot ('..', or a hidden folder)"
    if name.startswith("-"):
        return "it starts with '-' (commands would read it as an option)"
    if any(_control(c) for c in name):
        return "it holds a control character (a line break, say)"
    if name != name.strip():
        return "it starts or ends with a space (nbgrader strips those)"
    special = sorted({c for c in name if c in NBGRADER_SPECIAL})
    if special:
        return f"it holds {' '.join(special)} (nbgrader reads * ? [ as a pattern and , as a list)"
    special = sorted({c for c in name if c in FORMGRADER_SPECIAL})
    if special:
        return f"it holds {' '.join(special)} (Formgrader's pages and addresses hold ids unescaped)"
    size = len(name.encode("utf-8"))
    if size > MAX_ID_BYTES:
        return f"it has {size} bytes in UTF-8, over the limit of {MAX_ID_BYTES} for a folder name"
    return None


def is_student_id(name):
    """True when ``name`` can be a student id as it is (:func:`why_not_a_student_id`)."""
    return why_not_a_student_id(name) is None


def shown(name):
    """A name for a log line: as it is, or escaped (``'a\\nb'``) when it holds what would forge one."""
    return name if name.isprintable() else ascii(name)


def nbgrader_exclusion(students):
    """nbgrader's ``--CourseDirectory.student_id_exclude=`` option that leaves out ``students``.

    The list starts with a comma (an empty id, which no student has): traitlets would strip quotes
    around the whole value, and expand a ``~`` at its start, when the first or last id has one.
    """
    return "--CourseDirectory.student_id_exclude=," + ",".join(sorted(students))
