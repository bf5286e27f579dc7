# SPDX-License-Identifier: MIT
"""Ed25519 for the signing tests, through the openssl command line (the
standard library has no Ed25519): keys made with `openssl genpkey`,
envelopes signed over "cmdbus/v1/" KIND "\\0" payload exactly as the
contract says, and mosquitto_pub -l to publish many messages over one
connection."""

import base64
import json
import subprocess
import tempfile

from harness_procs import MOSQUITTO_PUB, _child_setup

OPENSSL = "openssl"


def make_key(directory, name):
    """Writes NAME.key.pem (private) and NAME.pub.pem (public) into
    directory; returns their paths."""
    priv = directory / (name + ".key.pem")
    pub = directory / (name + ".pub.pem")
    subprocess.run([OPENSSL, "genpkey", "-algorithm", "ed25519", "-out",
                    str(priv)], check=True, stdin=subprocess.DEVNULL,
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    subprocess.run([OPENSSL, "pkey", "-in", str(priv), "-pubout", "-out",
                    str(pub)], check=True, stdin=subprocess.DEVNULL,
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    priv.chmod(0o600)
    return priv, pub


def sign(priv, kind, payload):
    """The 64-byte Ed25519 signature of payload (text) as topic kind."""
    data = b"cmdbus/v1/" + kind.encode() + b"\0" + payload.encode()
    with tempfile.NamedTemporaryFile() as f:
        f.write(data)
        f.flush()
        out = subprocess.run([OPENSSL, "pkeyutl", "-sign", "-rawin",
                              "-inkey", str(priv), "-in", f.name],
                             check=True, stdin=subprocess.DEVNULL,
                             stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE).stdout
    if len(out) != 64:
        raise AssertionError("openssl gave a %d-byte signature" % len(out))
    return out


def signed_envelope(payload, kid, priv, kind="cmd", alg="ed25519"):
    """The envelope text of payload (text) signed with priv as kind."""
    sig = base64.b64encode(sign(priv, kind, payload)).decode()
    return json.dumps({"v": 1, "alg": alg, "kid": kid, "sig": sig,
                       "payload": payload}, separators=(",", ":"))


def pub_lines(port, user, password, topic, messages, protocol=5):
    """Publishes each message (one line of text each, no newline in any)
    at QoS 1 over one connection; returns mosquitto_pub's exit status."""
    for m in messages:
        if "\n" in m or "\r" in m:
            raise AssertionError("a line message holds a line break")
    data = "".join(m + "\n" for m in messages).encode()
    return subprocess.run(
        [MOSQUITTO_PUB, "-h", "127.0.0.1", "-p", str(port), "-u", user,
         "-P", password, "-t", topic, "-q", "1", "-l",
         "-V", "5" if protocol == 5 else "311"],
        input=data, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        preexec_fn=_child_setup, timeout=120).returncode
