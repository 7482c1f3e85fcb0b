"""TLS test material (issue 10): certificates made with the `openssl` command line only, a TLS
Docker engine (scripts/engine in TLS mode), loopback forwarders in front of an engine's unix
socket (plain or TLS with any certificate), HTTPS and TLS probes.

Certificates (`make_certs(dir)` → `Certs`), all EC P-256, all SHA-256:
  ca                  the test CA: signs the engine's certificate, the client certificates and the
                      intermediate that issues docktail's certificates
  engine              the engine's server certificate: SAN IP:127.0.0.1, DNS:localhost, serverAuth
  client              a client certificate (clientAuth) the engine accepts
  expired_client      a client certificate valid only in January 2020 (made with `openssl ca
                      -startdate/-enddate`, OpenSSL 3.0 has no `x509 -not_before`)
  wrong_ca            a second, unrelated CA, and wrong_client: a client certificate it signed
  other_name          a server certificate for DNS:other.example only, signed by ca (name mismatch)
  docktail_a/_b       docktail's own server certificates (SAN IP:127.0.0.1, DNS:localhost), issued
                      by an intermediate CA; each `.chain` file is leaf + intermediate, so a client
                      that trusts only `ca` verifies docktail only if it sends its chain
  encrypted_client    a client certificate whose key is encrypted with the passphrase "secret"
  docker_dir          Docker's layout for --engine-tls and DOCKER_CERT_PATH: ca.pem, cert.pem, key.pem
  engine_dir          scripts/engine's TLS layout: ca.pem, server-cert.pem, server-key.pem
"""
import base64
import hashlib
import os
import shutil
import socket
import ssl
import subprocess
import threading
import time
from types import SimpleNamespace

from helpers import ROOT, Engine

OPENSSL = shutil.which("openssl")

_CA_CNF = """\
[ ca ]
default_ca = test
[ test ]
dir = {db}
database = {db}/index.txt
new_certs_dir = {db}
serial = {db}/serial
default_md = sha256
policy = anything
unique_subject = no
copy_extensions = none
[ anything ]
commonName = supplied
"""

_EXT = """\
[ ca_ext ]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[ server_ext ]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1,DNS:localhost
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[ other_ext ]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:other.example
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[ client_ext ]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
"""


def _openssl(*args, cwd=None):
    if not OPENSSL:
        raise AssertionError("the openssl command line is missing: apt-get install openssl")
    r = subprocess.run([OPENSSL, *args], cwd=cwd, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    if r.returncode != 0:
        raise AssertionError(f"openssl {' '.join(args)} failed: {r.stderr}")
    return r.stdout


class Certs:
    """Makes every certificate of the TLS tests into `dir` (see the module docstring)."""

    def __init__(self, dir):
        self.dir = dir
        os.makedirs(dir, exist_ok=True)
        self.ext = self.p("ext.cnf")
        with open(self.ext, "w") as f:
            f.write(_EXT)
        self.ca = self._root("ca", "docktail test CA")
        self.wrong_ca = self._root("wrong-ca", "unrelated CA")
        self.intermediate = self._issue("intermediate", "docktail test intermediate", self.ca, "ca_ext")
        self.engine = self._issue("engine", "127.0.0.1", self.ca, "server_ext")
        self.client = self._issue("client", "docktail client", self.ca, "client_ext")
        self.wrong_client = self._issue("wrong-client", "client of the unrelated CA", self.wrong_ca, "client_ext")
        self.other_name = self._issue("other-name", "other.example", self.ca, "other_ext")
        self.docktail_a = self._issue("docktail-a", "docktail A", self.intermediate, "server_ext", chain=True)
        self.docktail_b = self._issue("docktail-b", "docktail B", self.intermediate, "server_ext", chain=True)
        self.expired_client = self._expired("expired-client", "expired client", self.ca)
        self.encrypted_client = self._issue("encrypted-client", "client with an encrypted key", self.ca, "client_ext", passphrase="secret")
        # Docker's layout, for --engine-tls NAME=DIR and DOCKER_CERT_PATH.
        self.docker_dir = self.p("docker")
        os.makedirs(self.docker_dir, exist_ok=True)
        for src, dst in [(self.ca.cert, "ca.pem"), (self.client.cert, "cert.pem"), (self.client.key, "key.pem")]:
            shutil.copy(src, os.path.join(self.docker_dir, dst))
        # scripts/engine's layout (DOCKTAIL_ENGINE_TLS_DIR).
        self.engine_dir = self.p("engine-tls")
        os.makedirs(self.engine_dir, exist_ok=True)
        for src, dst in [(self.ca.cert, "ca.pem"), (self.engine.cert, "server-cert.pem"), (self.engine.key, "server-key.pem")]:
            shutil.copy(src, os.path.join(self.engine_dir, dst))
        os.chmod(os.path.join(self.engine_dir, "server-key.pem"), 0o600)

    def p(self, name):
        return os.path.join(self.dir, name)

    def _key(self, name, passphrase=None):
        key = self.p(f"{name}-key.pem")
        args = ["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", key]
        if passphrase:
            args += ["-aes256", "-pass", f"pass:{passphrase}"]
        _openssl(*args)
        os.chmod(key, 0o600)
        return key

    def _root(self, name, cn):
        key = self._key(name)
        cert = self.p(f"{name}.pem")
        _openssl("req", "-x509", "-new", "-key", key, "-out", cert, "-days", "30", "-subj", f"/CN={cn}",
                 "-config", self.ext, "-extensions", "ca_ext", "-set_serial", str(_serial()))
        return SimpleNamespace(cert=cert, key=key, name=name)

    def _csr(self, name, cn, passphrase=None):
        key = self._key(name, passphrase)
        csr = self.p(f"{name}.csr")
        args = ["req", "-new", "-key", key, "-out", csr, "-subj", f"/CN={cn}"]
        if passphrase:
            args += ["-passin", f"pass:{passphrase}"]
        _openssl(*args)
        return key, csr

    def _issue(self, name, cn, issuer, ext, chain=False, passphrase=None):
        key, csr = self._csr(name, cn, passphrase)
        cert = self.p(f"{name}.pem")
        _openssl("x509", "-req", "-in", csr, "-CA", issuer.cert, "-CAkey", issuer.key, "-out", cert, "-days", "30",
                 "-sha256", "-set_serial", str(_serial()), "-extfile", self.ext, "-extensions", ext)
        out = SimpleNamespace(cert=cert, key=key, name=name, der=der(cert))
        if chain:
            out.chain = self.p(f"{name}-chain.pem")
            with open(out.chain, "w") as f:
                f.write(open(cert).read() + open(issuer.cert).read())
        return out

    def _expired(self, name, cn, issuer):
        """A certificate whose whole validity is in the past: `openssl ca` takes explicit dates."""
        key, csr = self._csr(name, cn)
        db = self.p(f"{name}-db")
        os.makedirs(db, exist_ok=True)
        open(os.path.join(db, "index.txt"), "w").close()
        with open(os.path.join(db, "serial"), "w") as f:
            f.write(f"{_serial():016X}\n")
        cnf = self.p(f"{name}-ca.cnf")
        with open(cnf, "w") as f:
            f.write(_CA_CNF.format(db=db) + _EXT)
        cert = self.p(f"{name}.pem")
        _openssl("ca", "-batch", "-config", cnf, "-cert", issuer.cert, "-keyfile", issuer.key, "-in", csr, "-out", cert,
                 "-startdate", "20200101000000Z", "-enddate", "20200201000000Z", "-extensions", "client_ext", "-notext")
        return SimpleNamespace(cert=cert, key=key, name=name, der=der(cert))

    def engine_tls(self, client=None, ca=None, verify=None, cert=True):
        """An engine entry's `tls` object: the test CA and the good client certificate unless told."""
        client = client or self.client
        t = {"ca": ca or self.ca.cert}
        if cert:
            t["cert"], t["key"] = client.cert, client.key
        if verify is not None:
            t["verify"] = verify
        return t

    def client_context(self, hostname=True):
        """A client context that trusts only the test CA (docktail's chain must lead to it)."""
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.load_verify_locations(self.ca.cert)
        ctx.check_hostname = hostname
        return ctx


_serials = set()


def _serial():
    while True:
        n = int.from_bytes(os.urandom(8), "big") >> 1
        if n and n not in _serials:
            _serials.add(n)
            return n


def der(cert_path):
    return ssl.PEM_cert_to_DER_cert(open(cert_path).read().split("-----END CERTIFICATE-----")[0] + "-----END CERTIFICATE-----\n")


def spki_sha256_base64(cert_path):
    """base64(sha256(SubjectPublicKeyInfo)), what Chromium's --ignore-certificate-errors-spki-list takes,
    computed with the openssl command line as the README of that flag describes."""
    pub = subprocess.run([OPENSSL, "x509", "-pubkey", "-noout", "-in", cert_path], capture_output=True, check=True, timeout=30).stdout
    spki = subprocess.run([OPENSSL, "pkey", "-pubin", "-outform", "der"], input=pub, capture_output=True, check=True, timeout=30).stdout
    return base64.b64encode(hashlib.sha256(spki).digest()).decode()


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class TlsEngine(Engine):
    """A second private dockerd (scripts/engine in TLS mode): its unix socket for setup, and
    tcp://127.0.0.1:PORT with verified TLS that requires a client certificate signed by `certs.ca`."""

    def __init__(self, dir, certs, port=None):
        self.dir = dir
        self.certs = certs
        self.port = port or free_port()
        self.tcp_url = f"tcp://127.0.0.1:{self.port}"
        self.script = os.path.join(ROOT, "scripts/engine")
        url = self._script("start")
        super().__init__(url)
        self.unix_url = url

    def _env(self):
        return dict(os.environ, DOCKTAIL_ENGINE_TLS_PORT=str(self.port), DOCKTAIL_ENGINE_TLS_DIR=self.certs.engine_dir)

    def _script(self, cmd):
        r = subprocess.run([self.script, cmd, self.dir], env=self._env(), capture_output=True, text=True, timeout=120)
        if r.returncode != 0:
            raise AssertionError(f"scripts/engine {cmd} {self.dir} (TLS port {self.port}) failed: {r.stderr}")
        return r.stdout.strip()

    def start(self):
        self._script("start")

    def stop_daemon(self):
        self._script("stop-daemon")

    def stop(self):
        self._script("stop")

    def docker_tls(self, *args, cert_dir=None, check=True):
        """The docker CLI over the TLS port, as a user would run it."""
        d = cert_dir or self.certs.docker_dir
        r = subprocess.run(["docker", "--tlsverify", "--tlscacert", os.path.join(d, "ca.pem"), "--tlscert", os.path.join(d, "cert.pem"),
                            "--tlskey", os.path.join(d, "key.pem"), "-H", self.tcp_url, *args],
                           capture_output=True, text=True, timeout=60, env=dict(os.environ, DOCKER_CONFIG=self.dir))
        if check and r.returncode != 0:
            raise RuntimeError(f"docker --tlsverify {args}: {r.stderr}")
        return r.stdout.strip() if check else r


class Forwarder:
    """A loopback TCP port in front of a unix socket (a real engine's) or of ("127.0.0.1", port),
    optionally serving TLS with any certificate (e.g. one for another name). Every connection is
    piped both ways."""

    def __init__(self, target, server_context=None):
        self.target = target
        self.context = server_context
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(64)
        self.port = self.listener.getsockname()[1]
        self.handshake_errors = []
        self.accepted = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            self.accepted += 1
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client):
        try:
            if self.context:
                client.settimeout(10)
                client = self.context.wrap_socket(client, server_side=True)
                client.settimeout(None)
            if isinstance(self.target, str):
                upstream = socket.socket(socket.AF_UNIX)
                upstream.connect(self.target)
            else:
                upstream = socket.create_connection(self.target, timeout=10)
                upstream.settimeout(None)
        except (OSError, ssl.SSLError) as e:
            self.handshake_errors.append(repr(e))
            client.close()
            return
        threading.Thread(target=self._pipe, args=(upstream, client), daemon=True).start()
        self._pipe(client, upstream)

    @staticmethod
    def _pipe(a, b):
        try:
            while True:
                d = a.recv(65536)
                if not d:
                    break
                b.sendall(d)
        except (OSError, ssl.SSLError):
            pass
        finally:
            for s in (a, b):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except (OSError, ssl.SSLError):
                    pass

    def close(self):
        self.listener.close()


def server_context(cert, key):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    return ctx


def tls_connect(port, ctx, server_hostname="127.0.0.1", timeout=10):
    """A TLS connection to 127.0.0.1:port (handshake done), or the ssl/OS error raised."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        return ctx.wrap_socket(s, server_hostname=server_hostname)
    except BaseException:
        s.close()
        raise


def is_tls_port(port, timeout=3):
    """True when 127.0.0.1:port completes a TLS handshake (certificate not checked)."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    try:
        tls_connect(port, ctx, timeout=timeout).close()
        return True
    except (ssl.SSLError, OSError):
        return False


def https_request(port, path, ctx, host="127.0.0.1", headers=None, timeout=10):
    """One HTTPS GET over a fresh connection: .status, .headers (a list of pairs), .body, and the TLS
    session's .version, .alpn (None when not negotiated) and .peer (the server's certificate, DER)."""
    import http.client
    c = http.client.HTTPSConnection(host, port, context=ctx, timeout=timeout)
    try:
        c.connect()
        tls = SimpleNamespace(version=c.sock.version(), alpn=c.sock.selected_alpn_protocol(), peer=c.sock.getpeercert(binary_form=True))
        c.request("GET", path, headers=headers or {})
        r = c.getresponse()
        body = r.read()
        return SimpleNamespace(status=r.status, headers=r.getheaders(), body=body, **vars(tls))
    finally:
        c.close()


def wait_until(fn, timeout=20, interval=0.2, message="condition"):
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        last = fn()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {message}; last value: {last!r}")
