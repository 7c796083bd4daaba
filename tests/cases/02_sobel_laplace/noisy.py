# Correct answers (the instructor's) that warn, print to stderr and to stdout while the tests
# call them: full marks all the same. Each cell below is appended to the instructor's cell.
# base: instructor
# scores: full

# %% correlate_separable
import sys, warnings, functools
_quiet_correlate_separable = correlate_separable
@functools.wraps(_quiet_correlate_separable)
def correlate_separable(*args, **kwargs):
    warnings.warn("correlate_separable: this warning must not cost points", UserWarning)
    print("debug output on stderr", file=sys.stderr)
    return _quiet_correlate_separable(*args, **kwargs)
