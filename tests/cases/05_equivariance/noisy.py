# Correct answers (the instructor's) that warn, print to stderr and to stdout while the tests
# call them: full marks all the same. Each cell below is appended to the instructor's cell.
# base: instructor
# scores: full

# %% translate
import sys, warnings, functools
_quiet_translate = translate
@functools.wraps(_quiet_translate)
def translate(*args, **kwargs):
    warnings.warn("translate: this warning must not cost points", RuntimeWarning)
    print("debug output on stderr", file=sys.stderr)
    print("debug output on stdout")
    return _quiet_translate(*args, **kwargs)
