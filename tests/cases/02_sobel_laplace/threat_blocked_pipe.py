# The last solution cell forges the reply that it ran, then never reads another request and sleeps
# (no CPU time). The request for the first test's copy gets no answer within its 10 s, so the set-up
# counts as broken for every test of the notebook: every test scores 0, after 10 s, not 4 × 30.
# (That a large request to a process that reads nothing never blocks the grader is
# tests/core/test_sandbox.py::test_a_process_that_stops_reading_never_blocks_the_grader.)
# scores: {"test_sobel_magnitude": 0, "test_sobel_angle": 0, "test_correlate_separable": 0, "test_separable_factors": 0}

# %% separable_factors
import os, sys, struct, json, time
_b = json.dumps({"cell": 2, "cell_error": None}).encode()
os.write(int(sys.argv[2]), struct.pack(">Q", len(_b)) + _b)
while True:
    time.sleep(3600)
