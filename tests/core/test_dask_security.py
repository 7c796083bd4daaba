"""Dask's TLS set-up (grading/core/dask_security.py): the course's own CA, private keys, tls:// only.

The README's cluster, started with its commands, is tests/test_grading_dask.py.
"""

import os
import stat

import pytest

from grading.core import dask_security


def test_dask_certs_are_signed_by_a_fresh_course_ca_and_keys_are_private(tmp_path):
    from cryptography import x509
    from cryptography.exceptions import InvalidSignature

    old = os.umask(0)  # the modes must not depend on the instructor's umask
    try:
        written = dask_security.make_certificates(tmp_path / "certs")
    finally:
        os.umask(old)
    folder = tmp_path / "certs"
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert sorted(p.name for p in written) == sorted(p.name for p in folder.iterdir())
    ca = x509.load_pem_x509_certificate((folder / "ca.pem").read_bytes())
    for role in dask_security.ROLES:
        certificate_path, key_path = dask_security.role_files(folder, role)
        assert stat.S_IMODE(key_path.stat().st_mode) == 0o600, role
        x509.load_pem_x509_certificate(certificate_path.read_bytes()).verify_directly_issued_by(ca)
    keys = {p.name for p in folder.iterdir() if b"PRIVATE KEY" in p.read_bytes()}
    assert keys == {f"{role}-key.pem" for role in dask_security.ROLES}, "the CA's key is not kept"
    other = x509.load_pem_x509_certificate(dask_security.make_certificates(tmp_path / "other")[0].read_bytes())
    with pytest.raises(InvalidSignature):  # each run is a CA of its own
        x509.load_pem_x509_certificate((folder / "client.pem").read_bytes()).verify_directly_issued_by(other)
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    assert dask_security.main([str(folder)]) == 0
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before, "an existing folder is kept as it is"


def test_make_autograde_takes_only_tls_addresses():
    assert dask_security.tls_address("tls://grader:8786") == "tls://grader:8786"
    assert dask_security.tls_address("grader:8786") == "tls://grader:8786"
    with pytest.raises(SystemExit, match="tls://grader:8786"):
        dask_security.tls_address("tcp://grader:8786")
