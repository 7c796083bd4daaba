# Correct answers (the instructor's) that warn, print to stderr and to stdout while the tests
# call them: full marks all the same. Each cell below is appended to the instructor's cell.
# base: instructor
# scores: full

# %% receptive_field
import sys, warnings, functools
_quiet_receptive_field = receptive_field
@functools.wraps(_quiet_receptive_field)
def receptive_field(*args, **kwargs):
    warnings.warn("receptive_field: this warning must not cost points", RuntimeWarning)
    print("debug output on stderr", file=sys.stderr)
    print("debug output on stdout")
    return _quiet_receptive_field(*args, **kwargs)
