import os
import subprocess
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))
from helpers import ROOT, Docktail, Engine  # noqa: E402

ENGINE_DIR = os.environ.get("DOCKTAIL_ENGINE_DIR", "/tmp/docktail-test-engine")
TLS_ENGINE_DIR = os.environ.get("DOCKTAIL_TLS_ENGINE_DIR", "/tmp/docktail-tls-engine")


def pytest_addoption(parser):
    parser.addoption("--docktail", default=os.environ.get("DOCKTAIL_BIN", os.path.join(ROOT, ".build/release/docktail")))


@pytest.fixture(scope="session")
def binary(request):
    path = request.config.getoption("--docktail")
    assert os.path.exists(path), f"build docktail first ({path})"
    return path


@pytest.fixture(scope="session")
def engine():
    url = subprocess.run([os.path.join(ROOT, "scripts/engine"), "start", ENGINE_DIR], capture_output=True, text=True, check=True).stdout.strip()
    e = Engine(url)
    yield e
    ids = e.docker("ps", "-aq", check=False).split()
    if ids:
        e.docker("rm", "-f", *ids, check=False)


@pytest.fixture
def docktail(binary, engine):
    started = []

    def start(**kw):
        kw.setdefault("engine_url", engine.url)
        d = Docktail(binary, **kw)
        started.append(d)
        return d

    yield start
    for d in started:
        d.stop()


@pytest.fixture
def server(docktail):
    return docktail()


@pytest.fixture(scope="session")
def tls_certs(tmp_path_factory):
    """Every certificate of the TLS tests, made with the openssl CLI (tests/tlsfixtures.py)."""
    from tlsfixtures import Certs
    return Certs(str(tmp_path_factory.mktemp("tls-certs")))


@pytest.fixture(scope="session")
def tls_engine(tls_certs):
    """A second real dockerd (scripts/engine in TLS mode, its own DIR): tcp://127.0.0.1:PORT with
    verified TLS and client certificates, plus its plain unix socket for setup (`.docker(...)`)."""
    from tlsfixtures import TlsEngine
    # An engine left behind by an interrupted session would keep its old port and certificates.
    subprocess.run([os.path.join(ROOT, "scripts/engine"), "stop", TLS_ENGINE_DIR], capture_output=True, timeout=120)
    e = TlsEngine(TLS_ENGINE_DIR, tls_certs)
    yield e
    e.stop()
