# Correct answers (the instructor's) that warn, print to stderr and to stdout while the tests
# call them: full marks all the same. Each cell below is appended to the instructor's cell.
# base: instructor
# scores: full

# %% corr2d_backward
import sys, warnings, functools
_quiet_corr2d_backward = corr2d_backward
@functools.wraps(_quiet_corr2d_backward)
def corr2d_backward(*args, **kwargs):
    warnings.warn("corr2d_backward: this warning must not cost points", RuntimeWarning)
    print("debug output on stderr", file=sys.stderr)
    print("debug output on stdout")
    return _quiet_corr2d_backward(*args, **kwargs)
