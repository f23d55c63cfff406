"""The local broker's secured listener: SASL_SSL with one SCRAM-SHA-512 user and a self-signed CA.

Managed Kafka accepts no plaintext client without credentials; this lets a
machine without one run the whole pipeline the way it would run against one.
The CA, the broker's certificate (for 127.0.0.1 and localhost) and the user's
password are made once, with openssl, in ``<data dir>/secure`` (readable by
the owner only), and kept: the user is written into the broker's storage
when it is first formatted, so a data directory is secured for life or never.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from pydantic import SecretStr

from foundation.errors import BrokerError
from foundation.settings import KafkaConnection

USER = "feynman"
MECHANISM = "SCRAM-SHA-512"
NO_OPENSSL = "openssl not found: install it (apt-get install openssl) to make the broker's certificates"
# Clients connect on the SASL_SSL listener; the controller listener stays on
# 127.0.0.1 for the node's own quorum traffic.
LISTENERS = """\
listeners=SASL_SSL://127.0.0.1:{port},CONTROLLER://127.0.0.1:{cport}
advertised.listeners=SASL_SSL://127.0.0.1:{port}
listener.security.protocol.map=SASL_SSL:SASL_SSL,CONTROLLER:PLAINTEXT
inter.broker.listener.name=SASL_SSL
sasl.enabled.mechanisms={mechanism}
sasl.mechanism.inter.broker.protocol={mechanism}
listener.name.sasl_ssl.{lower}.sasl.jaas.config=\
org.apache.kafka.common.security.scram.ScramLoginModule required username="{user}" password="{password}";
ssl.keystore.type=PEM
ssl.keystore.location={keystore}
ssl.truststore.type=PEM
ssl.truststore.location={ca}
"""


@dataclass(frozen=True)
class BrokerSecrets:
    """The files of a secured local broker, in one directory."""

    directory: Path

    @property
    def ca(self) -> Path:
        return self.directory / "ca.pem"

    @property
    def keystore(self) -> Path:
        return self.directory / "broker-keystore.pem"

    @property
    def password_file(self) -> Path:
        return self.directory / "password"

    def exists(self) -> bool:
        return all(path.exists() for path in (self.ca, self.keystore, self.password_file))

    def password(self) -> str:
        return self.password_file.read_text().strip()

    def ensure(self) -> BrokerSecrets:
        """Make the CA, the broker's key and certificate and the user's password, once."""
        if self.exists():
            return self
        if (openssl := shutil.which("openssl")) is None:
            raise BrokerError(NO_OPENSSL)
        self.directory.mkdir(parents=True, exist_ok=True)
        os.chmod(self.directory, 0o700)
        d = self.directory

        def run(*args: str) -> None:
            out = subprocess.run([openssl, *args], check=False, capture_output=True, text=True, cwd=d)
            if out.returncode != 0:
                raise BrokerError(f"openssl {args[0]} failed: {out.stderr.strip().splitlines()[-1:]}")

        run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "3650", "-keyout", "ca.key",
            "-out", "ca.pem", "-subj", "/CN=feynman local broker CA")  # fmt: skip
        run("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "broker.key", "-out", "broker.csr",
            "-subj", "/CN=127.0.0.1")  # fmt: skip
        (d / "san.ext").write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
        run("x509", "-req", "-in", "broker.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
            "-days", "3650", "-extfile", "san.ext", "-out", "broker.pem")  # fmt: skip
        # Kafka's PEM keystore: the PKCS#8 key, then the certificate chain.
        self.keystore.write_text((d / "broker.key").read_text() + (d / "broker.pem").read_text())
        self.password_file.write_text(secrets.token_hex(24) + "\n")
        for path in d.iterdir():
            os.chmod(path, 0o600)
        return self

    def listeners(self, port: int, controller_port: int) -> str:
        """The broker's listener and security properties."""
        return LISTENERS.format(
            port=port,
            cport=controller_port,
            mechanism=MECHANISM,
            lower=MECHANISM.lower(),
            user=USER,
            password=self.password(),
            keystore=self.keystore,
            ca=self.ca,
        )

    def format_arguments(self) -> list[str]:
        """What ``kafka-storage format`` needs to create the user."""
        return ["--add-scram", f"{MECHANISM}=[name={USER},password={self.password()}]"]

    def connection(self, bootstrap: str) -> KafkaConnection:
        """How a client connects to this broker."""
        return KafkaConnection(
            bootstrap=(bootstrap,),
            security_protocol="SASL_SSL",
            sasl_mechanism=MECHANISM,
            sasl_username=USER,
            sasl_password=SecretStr(self.password()),
            ssl_cafile=self.ca,
        )

    def env(self, bootstrap: str) -> dict[str, str]:
        """The ``FEYNMAN_KAFKA_*`` variables that connect the pipeline to this broker."""
        return {
            "FEYNMAN_KAFKA_BOOTSTRAP": bootstrap,
            "FEYNMAN_KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
            "FEYNMAN_KAFKA_SASL_MECHANISM": MECHANISM,
            "FEYNMAN_KAFKA_SASL_USERNAME": USER,
            "FEYNMAN_KAFKA_SASL_PASSWORD": self.password(),
            "FEYNMAN_KAFKA_SSL_CAFILE": str(self.ca.resolve()),
        }
