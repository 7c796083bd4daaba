"""Mutual TLS for grading on many machines: a course CA and a certificate for each Dask role.

A Dask scheduler runs whatever its clients send on its workers. Grading jobs carry the source
notebooks (the model answers) and student code that runs as the worker's account, so the
scheduler, the workers and ``make autograde`` must accept only one another. ``make dask-certs``
(``python -m grading.core.dask_security``) makes a certificate authority for the course and signs a key
pair for each role with it; Dask then refuses every connection that does not present a
certificate of that CA (``distributed.security.Security``: TLS both ways, encryption required).

The CA's own key is thrown away once the three certificates are signed, so nobody, the
instructor included, can sign another one: new certificates mean a new folder on every machine.
"""

import argparse
import datetime
import os
import sys
from pathlib import Path

FOLDER = "dask-certs"
CA_FILE = "ca.pem"
ROLES = ("scheduler", "worker", "client")
VALID_DAYS = 3 * 365
# Clocks of the machines may disagree a little: certificates are valid from an hour ago.
CLOCK_SLACK = datetime.timedelta(hours=1)


def role_files(folder, role):
    """The certificate and the key file of a role: (``<role>.pem``, ``<role>-key.pem``)."""
    return Path(folder) / f"{role}.pem", Path(folder) / f"{role}-key.pem"


def _name(text):
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, text)])


def _certificate(subject, public_key, issuer, signing_key, is_ca, now, days):
    """An X.509 certificate of ``public_key``, signed with ``signing_key`` (its issuer's key)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.x509.oid import ExtendedKeyUsageOID

    builder = (x509.CertificateBuilder()
               .subject_name(_name(subject)).issuer_name(_name(issuer)).public_key(public_key)
               .serial_number(x509.random_serial_number())
               .not_valid_before(now - CLOCK_SLACK).not_valid_after(now + datetime.timedelta(days=days))
               .add_extension(x509.BasicConstraints(ca=is_ca, path_length=0 if is_ca else None), critical=True)
               .add_extension(x509.KeyUsage(digital_signature=not is_ca, key_cert_sign=is_ca, crl_sign=is_ca,
                                            content_commitment=False, key_encipherment=False,
                                            data_encipherment=False, key_agreement=False,
                                            encipher_only=False, decipher_only=False), critical=True)
               .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
               .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(signing_key.public_key()),
                              critical=False))
    if not is_ca:  # every role both listens and connects (the scheduler calls its workers, too)
        builder = builder.add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
    return builder.sign(signing_key, hashes.SHA256())


def _write(path, data, mode):
    """Write ``data`` to a new file that has ``mode`` from its creation on (a key is never readable by others)."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(descriptor, "wb") as stream:
        stream.write(data)
    os.chmod(path, mode)  # os.open's mode is filtered through the umask


def make_certificates(folder, course="grading", days=VALID_DAYS, now=None):
    """Make a course CA in ``folder`` and sign a key pair for each role of :data:`ROLES` with it.

    Parameters
    ----------
    folder : path-like
        Must not exist yet; made with mode 0700. Keys are written 0600, certificates 0644.
    course : str
        Names the certificates (their common names), for whoever inspects them.
    days : int
        How long the certificates are valid.
    now : datetime.datetime, optional
        The time they are issued at (UTC); default: now.

    Returns
    -------
    list of pathlib.Path
        The files written: ``ca.pem`` first, then each role's certificate and key.
    """
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    folder = Path(folder)
    now = now or datetime.datetime.now(datetime.timezone.utc)
    folder.mkdir(mode=0o700, parents=True)
    os.chmod(folder, 0o700)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = f"{course} Dask certificate authority"
    ca = _certificate(ca_name, ca_key.public_key(), ca_name, ca_key, True, now, days)
    written = [folder / CA_FILE]
    _write(written[0], ca.public_bytes(serialization.Encoding.PEM), 0o644)
    for role in ROLES:
        key = ec.generate_private_key(ec.SECP256R1())
        certificate = _certificate(f"{course} Dask {role}", key.public_key(), ca_name, ca_key, False, now, days)
        certificate_path, key_path = role_files(folder, role)
        _write(certificate_path, certificate.public_bytes(serialization.Encoding.PEM), 0o644)
        _write(key_path, key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()), 0o600)
        written += [certificate_path, key_path]
    return written


def missing_files(folder, role):
    """The files of ``folder`` that ``role`` needs and that are not there (empty when complete)."""
    needed = [Path(folder) / CA_FILE, *role_files(folder, role)]
    return [path for path in needed if not path.is_file()]


def client_security(folder):
    """The :class:`distributed.Security` of ``make autograde``: this course's CA, the client's pair.

    Raises
    ------
    SystemExit
        When a file is missing, naming it and the command that makes them.
    """
    from distributed.security import Security

    missing = missing_files(folder, "client")
    if missing:
        raise SystemExit(f"make autograde: grading on Dask needs the course's certificates; missing: "
                         f"{', '.join(str(p) for p in missing)}. Run `make dask-certs` once and copy {FOLDER}/ to "
                         f"the scheduler and the workers (README: Grading on many machines).")
    certificate, key = role_files(folder, "client")
    return Security(tls_ca_file=str(Path(folder) / CA_FILE), tls_client_cert=str(certificate),
                    tls_client_key=str(key), require_encryption=True)


def tls_address(address):
    """The scheduler's address as ``tls://HOST:PORT``; ``HOST:PORT`` alone means TLS too.

    Raises
    ------
    SystemExit
        For any other protocol (``tcp://`` sends the jobs, model answers included, in clear text to
        a scheduler that takes anyone's code).
    """
    protocol, separator, rest = address.partition("://")
    if not separator:
        return f"tls://{address}"
    if protocol != "tls":
        raise SystemExit(f"make autograde: SCHEDULER={address} is not a tls:// address. Grading on Dask uses TLS "
                         f"with this course's certificates, so that no one else can send code to the workers or "
                         f"read the jobs: start the scheduler as the README says (Grading on many machines) and "
                         f"use SCHEDULER=tls://{rest}.")
    return address


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m grading.core.dask_security",
                                     description="make a course CA and a TLS certificate for each Dask role")
    parser.add_argument("folder", nargs="?", default=FOLDER)
    args = parser.parse_args(argv)
    folder = Path(args.folder)
    if folder.exists():
        print(f"{folder}/ exists already: its certificates are kept (delete the folder first for new ones, "
              f"and copy the new folder to every machine)")
        return 0
    written = make_certificates(folder)
    print(f"wrote {', '.join(p.name for p in written)} in {folder}/ "
          f"(keys readable by you only; valid {VALID_DAYS} days)")
    print(f"Copy {folder}/ to the Dask scheduler and to each worker's course folder "
          "(README: Grading on many machines).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
