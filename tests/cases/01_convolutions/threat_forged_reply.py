# A solution cell that writes a reply of its own, nested 200,000 deep, before the runner can
# answer: the trusted side refuses it as a protocol error (no grader error, no crash of the
# trusted process) and sets the cell aside; the other cells are stubs, so the notebook scores 0.
# faulty: {"output_size": "crashed"}
# scores: {"test_output_size": 0, "test_corr2d_valid": 0, "test_corr2d_stride_padding": 0, "test_conv2d": 0}

# %% output_size
import os, sys, struct
_body = b"[" * 200000 + b"]" * 200000
os.write(int(sys.argv[2]), struct.pack(">Q", len(_body)) + _body)
