"""Evidence bundles: BagIt bags (RFC 8493, SHA-512), Ed25519-signed, verified and compared.

Layout (see notes/BUNDLE_LAYOUT.md): the staging directory's files become the payload under ``data/``;
``bag-info.txt`` carries the run's metadata; ``signature.ed25519`` (base64 of the 64-byte Ed25519
signature over ``tagmanifest-sha512.txt``) sits beside the tag manifest, outside both manifests.
An auditor can check it without this code::

    bagit.py --validate BAG
    base64 -d BAG/signature.ed25519 > sig.bin
    openssl pkeyutl -verify -pubin -inkey public.pem -rawin -in BAG/tagmanifest-sha512.txt -sigfile sig.bin
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import json
import math
import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import bagit
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from complaints.errors import InfraError
from complaints.settings import Signing
from complaints.times import SHANGHAI
from tasks.archive.stores import Store, StoreError, parse_bundle_id, run_part

ALGORITHM = "sha512"
MANIFEST = f"manifest-{ALGORITHM}.txt"
TAG_MANIFEST = f"tagmanifest-{ALGORITHM}.txt"
SIGNATURE_FILE = "signature.ed25519"
FIGURES_FILE = "data/figures/figures.json"
REQUIRED_INFO = ("Period", "Entity", "Run-Id", "As-Of", "Trigger", "Filing", "Code-Version",
                 "Package-Versions")
BUNDLE_ID_TAG = "Bundle-Id"  # the id the bundle was committed under, signed with the rest of bag-info
RUN_FILE = "data/run.json"
SUBMISSION_FILE = "data/submission.json"  # a submission's record (kind ``submission``), in place of run.json
RECORD_FILES = (RUN_FILE, SUBMISSION_FILE)
KIND_TAG = "Kind"  # absent (or ``draft``) for a run's bundle; ``submission`` for a submission's bag
_SIGNED_TAG_FILES = ("bagit.txt", "bag-info.txt", MANIFEST)
#: run.json key -> bag-info tag that must agree (what the bundle says it is)
_IDENTITY = (("filing", "Filing"), ("entity", "Entity"), ("period", "Period"), ("run_id", "Run-Id"),
             ("as_of", "As-Of"), ("started_at", "Started-At"), ("finished_at", "Finished-At"),
             ("draft_bundle", "Draft-Bundle"))
CLOCK_SKEW = dt.timedelta(minutes=5)
#: an id's time may follow the run's end by this much (a retried upload of an older, unbound bundle)
LATEST_COMMIT = dt.timedelta(days=1)
_BAGIT_TXT = "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n"
_BAGIT_LOCK = threading.Lock()  # bagit changes the process's working directory while it works


class BundleError(InfraError):
    """A bundle cannot be made or signed (message says why and what to do)."""


# ------------------------------------------------------------------------------------------- keys


def generate_keypair(directory: Path) -> tuple[Path, str]:
    """A new Ed25519 key pair for demos and tests: ``(private key file (PEM, 0600), public key PEM)``."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    key = Ed25519PrivateKey.generate()
    private_path = directory / "signing-key.pem"
    private_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()))
    os.chmod(private_path, 0o600)
    public_pem = key.public_key().public_bytes(serialization.Encoding.PEM,
                                               serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    (directory / "signing-key.pub.pem").write_text(public_pem, encoding="ascii")
    return private_path, public_pem


def load_private_key(signing: Signing) -> Ed25519PrivateKey | None:
    """The signing key from ``$<private_key_env>`` (PEM text) or the file named by
    ``$<private_key_file_env>``; ``None`` when neither variable is set."""
    text = os.environ.get(signing.private_key_env, "").strip()
    origin = f"${signing.private_key_env}"
    if not text:
        file_name = os.environ.get(signing.private_key_file_env, "").strip()
        if not file_name:
            return None
        origin = f"{file_name} (from ${signing.private_key_file_env})"
        try:
            text = Path(file_name).read_text(encoding="ascii")
        except (OSError, UnicodeDecodeError) as exc:
            raise BundleError(f"signing key {origin}: cannot read: {exc}") from exc
    try:
        key = serialization.load_pem_private_key(text.encode(), password=None)
    except (ValueError, TypeError) as exc:
        raise BundleError(f"signing key {origin}: not an unencrypted PEM private key ({exc})") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise BundleError(f"signing key {origin}: not an Ed25519 key")
    return key


def load_public_key(text: str) -> Ed25519PublicKey:
    """An Ed25519 public key from PEM text or base64 of the 32 raw bytes (``ValueError`` otherwise)."""
    text = text.strip()
    if text.startswith("-----BEGIN"):
        key = serialization.load_pem_public_key(text.encode())
        if not isinstance(key, Ed25519PublicKey):
            raise ValueError("the public key is not an Ed25519 key")
        return key
    try:
        raw = base64.b64decode(text, validate=True)
    except binascii.Error as exc:
        raise ValueError("the public key is neither PEM nor base64") from exc
    if len(raw) != 32:
        raise ValueError("a raw Ed25519 public key has 32 bytes")
    return Ed25519PublicKey.from_public_bytes(raw)


def fingerprint(key: Ed25519PublicKey) -> str:
    """``sha256:<hex>`` of the raw public key (shown in bag-info.txt to name the signing key)."""
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return "sha256:" + hashlib.sha256(raw).hexdigest()


# ------------------------------------------------------------------------------------------- make


def _tag_name(key: str) -> str:
    if "-" in key and key[:1].isupper():
        return key
    return "-".join(part.capitalize() for part in key.replace("-", "_").split("_"))


def _one_line(value: object) -> str:
    if isinstance(value, Mapping):
        return ", ".join(f"{k}=={v}" for k, v in sorted(value.items()))
    return " ".join(str(value).split())  # bag-info values are single lines


def bag_info_from_run(run: Mapping[str, Any]) -> dict[str, str]:
    """bag-info.txt fields from ``run.json`` (run_id, period, entity, as_of, trigger, filing, ...)."""
    names = {"run_id": "Run-Id", "period": "Period", "entity": "Entity", "as_of": "As-Of",
             "trigger": "Trigger", "filing": "Filing", "code_version": "Code-Version",
             "package_versions": "Package-Versions", "started_at": "Started-At",
             "finished_at": "Finished-At", "by": "Run-By", "rendered_from": "Rendered-From"}
    info = {tag: _one_line(run[key]) for key, tag in names.items() if run.get(key) not in (None, "")}
    if run.get("preview"):  # a preview says so in its bag-info (drafts carry no Preview tag)
        info["Preview"] = "true"
    return info


def _info(staging: Path, info: Mapping[str, Any]) -> dict[str, str]:
    merged: dict[str, str] = {}
    run_json = staging / "run.json"
    if run_json.is_file():
        try:
            merged.update(bag_info_from_run(json.loads(run_json.read_text(encoding="utf-8"))))
        except (ValueError, AttributeError) as exc:
            raise BundleError(f"{run_json}: not a JSON object ({exc})") from exc
    merged.update({_tag_name(k): _one_line(v) for k, v in info.items()})
    missing = [k for k in REQUIRED_INFO if not merged.get(k)]
    if missing:
        raise BundleError(f"bag-info for {staging} lacks {', '.join(missing)} "
                          "(give them in info or run.json)")
    return merged


def make_bag(staging_dir: Path, info: Mapping[str, Any], signing: Signing) -> Path:
    """Turn ``staging_dir`` into a signed BagIt bag in place and return it.

    ``info`` keys may be tag names (``Run-Id``) or snake case (``run_id``); missing ones are taken from
    ``run.json``. Without a private key the bag is made unsigned (``verify_bag`` reports that). With a
    configured public key, a private key that does not match it is refused.
    """
    staging = Path(staging_dir).resolve()
    if not staging.is_dir():
        raise BundleError(f"{staging}: staging directory not found")
    if (staging / "bagit.txt").exists():
        raise BundleError(f"{staging}: already a bag")
    key = load_private_key(signing)
    bag_info = _info(staging, info)
    if bag_info.get(BUNDLE_ID_TAG):
        problems = check_identity(bag_info, None, None)
        if problems:
            raise BundleError(f"{staging}: " + "; ".join(problems))
    if key is not None:
        if signing.public_key:
            try:
                configured = fingerprint(load_public_key(signing.public_key))
            except ValueError as exc:
                raise BundleError(f"archive.signing.public_key: {exc}") from exc
            if configured != fingerprint(key.public_key()):
                raise BundleError("the signing key does not match archive.signing.public_key; bundles signed "
                                  "with it would fail verification")
        bag_info["Signature-Algorithm"] = f"Ed25519 over {TAG_MANIFEST}, base64 in {SIGNATURE_FILE}"
        bag_info["Signing-Key-Fingerprint"] = fingerprint(key.public_key())
    bag_info.setdefault("Bagging-Date", dt.date.today().isoformat())
    bag_info["Bag-Software-Agent"] = f"complaints tasks.archive.bundle (bagit.py {bagit.VERSION})"
    with _BAGIT_LOCK:
        old_cwd = os.getcwd()
        try:
            bag = bagit.make_bag(str(staging), bag_info=bag_info, checksums=[ALGORITHM])
            (staging / "bagit.txt").write_text(_BAGIT_TXT, encoding="utf-8")  # RFC 8493 is BagIt 1.0
            bag = bagit.Bag(str(staging))
            bag.save()  # re-writes the tag manifest over the new bagit.txt
        finally:
            os.chdir(old_cwd)
    if key is not None:
        sign_bag(staging, key)
    return staging


def sign_bag(bag_dir: Path, key: Ed25519PrivateKey) -> None:
    """Write ``signature.ed25519``: base64 of the Ed25519 signature over the tag manifest's bytes."""
    signature = key.sign((Path(bag_dir) / TAG_MANIFEST).read_bytes())
    (Path(bag_dir) / SIGNATURE_FILE).write_text(base64.b64encode(signature).decode() + "\n", encoding="ascii")


# ------------------------------------------------------------------------------------------ verify


def _sha512(path: Path) -> str:
    h = hashlib.sha512()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def read_bag_info(bag_dir: Path) -> dict[str, Any]:
    """bag-info.txt as a mapping (repeated tags become lists)."""
    return dict(bagit.Bag(str(bag_dir)).info)


def _check_files(root: Path, entries: Mapping[str, Mapping[str, str]], kind: str) -> list[str]:
    problems = []
    for rel, hashes in sorted(entries.items()):
        path = root / rel
        if not path.is_file():
            problems.append(f"missing {kind} file: {rel}")
        elif ALGORITHM not in hashes:
            problems.append(f"{kind} file {rel} has no {ALGORITHM} checksum")
        elif _sha512(path) != hashes[ALGORITHM]:
            problems.append(f"checksum mismatch ({ALGORITHM}): {rel} was changed")
    return problems


def _check_signature(root: Path, public_key_pem: str | None, info: Mapping[str, Any]) -> list[str]:
    sig_path, tag_path = root / SIGNATURE_FILE, root / TAG_MANIFEST
    return signature_problems(sig_path.read_bytes() if sig_path.is_file() else None,
                              tag_path.read_bytes() if tag_path.is_file() else None, public_key_pem, info)


def signature_problems(signature_file: bytes | None, tag_manifest: bytes | None, public_key_pem: str | None,
                       info: Mapping[str, Any]) -> list[str]:
    """What is wrong with ``signature.ed25519`` over the tag manifest's bytes (empty = valid)."""
    if signature_file is None:
        return [f"unsigned bundle: no {SIGNATURE_FILE} (it was made without a signing key)"]
    if not public_key_pem:
        return ["signature not checked: no public key (configure archive.signing.public_key or pass "
                "--public-key FILE)"]
    try:
        key = load_public_key(public_key_pem)
    except ValueError as exc:
        return [f"signature not checked: unusable public key ({exc})"]
    try:
        signature = base64.b64decode(signature_file.decode("ascii").strip(), validate=True)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return [f"bad signature: {SIGNATURE_FILE} is not base64"]
    try:
        if tag_manifest is None:
            raise InvalidSignature
        key.verify(signature, tag_manifest)
    except InvalidSignature:
        named = info.get("Signing-Key-Fingerprint")
        hint = f" (bundle names key {named}, given key is {fingerprint(key)})" if named and \
            named != fingerprint(key) else ""
        return [f"bad signature: {SIGNATURE_FILE} does not match {TAG_MANIFEST} for the given key{hint}"]
    return []


def verify_bag(bag_dir: Path, public_key_pem: str | None, bundle_id: str | None = None) -> list[str]:
    """Every problem with a bag (empty = all holds): structure, completeness (missing, unlisted or added
    files), every SHA-512 checksum, Payload-Oxum, required bag-info fields, the Ed25519 signature and
    the bundle's identity (``check_identity``: against ``bundle_id``, the id it is listed and fetched
    under, when given). A missing signature or missing public key is a problem, never silently accepted."""
    return _verify(Path(bag_dir), public_key_pem, signature=True, bundle_id=bundle_id)


def check_bag_contents(bag_dir: Path) -> list[str]:
    """``verify_bag`` without the signature: structure, completeness, checksums, Payload-Oxum, bag-info."""
    return _verify(Path(bag_dir), None, signature=False)


def _first(value: Any) -> str | None:
    if value is None:
        return None
    return value if isinstance(value, str) else f"{value!r} (a repeated tag)"


def _time(text: str | None) -> dt.datetime | None:
    if not text:
        return None
    try:
        t = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    return t if t.tzinfo else t.replace(tzinfo=SHANGHAI)  # naive: Shanghai


def check_identity(info: Mapping[str, Any], run: Mapping[str, Any] | None,
                   bundle_id: str | None) -> list[str]:
    """Whether what the signed content says it is matches the id it is listed and fetched under.

    ``info`` is bag-info.txt (signed through the tag manifest), ``run`` the bundled run.json (signed
    through the payload manifest; ``None`` if absent). Checked: bag-info's ``Bundle-Id`` (when the bundle
    has one) equals ``bundle_id``; the id's filing, entity, period and run part equal bag-info's
    Filing, Entity, Period and Run-Id; the id's time lies between Started-At (less a clock skew) and a day
    after Finished-At; run.json agrees with bag-info on each identity field. Without ``bundle_id`` (a bag
    directory) the bag's own Bundle-Id is checked against the rest. Each problem names the mismatch.
    """
    problems: list[str] = []
    signed = _first(info.get(BUNDLE_ID_TAG))
    if signed is not None and bundle_id is not None and signed != bundle_id:
        problems.append(f"identity mismatch: listed as {bundle_id} but signed as {BUNDLE_ID_TAG} {signed} "
                        "(a bundle copied under another id)")
    want = bundle_id or signed
    if want is not None:
        try:
            parsed = parse_bundle_id(want)
        except ValueError:
            return [*problems, f"identity mismatch: {want!r} is not a bundle id"]
        kind = _first(info.get(KIND_TAG))
        for tag, part in (("Filing", parsed.filing), ("Entity", parsed.entity), ("Period", parsed.period)):
            got = _first(info.get(tag))
            if tag == "Filing" and kind not in (None, "", "draft") and got is not None:
                got = f"{kind}-{got}"  # a bag of another kind lives under "<kind>-<filing>/…"
            if got != part:
                problems.append(f"identity mismatch: the id {want} says {tag.lower()} {part} but bag-info "
                                f"says {tag} {got}")
        preview = (_first(info.get("Preview")) or "").lower() == "true"
        if preview != parsed.preview:
            what = "a preview" if parsed.preview else "a draft"
            problems.append(f"identity mismatch: the id {want} is {what} but bag-info says "
                            f"{'Preview: true' if preview else 'no Preview'}")
        run_id = _first(info.get("Run-Id"))
        if run_id is None or run_part(run_id) != parsed.run:
            problems.append(f"identity mismatch: the id {want} says run {parsed.run} but bag-info says "
                            f"Run-Id {run_id}")
        started, finished = _time(_first(info.get("Started-At"))), _time(_first(info.get("Finished-At")))
        stamp = f"{parsed.created:%Y-%m-%dT%H:%M:%SZ}"
        if started is not None and parsed.created < started - CLOCK_SKEW:
            problems.append(f"identity mismatch: the id {want} was made at {stamp}, before the run started "
                            f"(Started-At {info.get('Started-At')})")
        if finished is not None and parsed.created > finished + LATEST_COMMIT:
            problems.append(f"identity mismatch: the id {want} was made at {stamp}, long after the run "
                            f"finished (Finished-At {info.get('Finished-At')}): an older bundle under a "
                            "newer id")
    if run is not None:
        for key, tag in _IDENTITY:
            if run.get(key) in (None, "") or info.get(tag) is None:
                continue
            if _one_line(run[key]) != _first(info.get(tag)):
                problems.append(f"identity mismatch: run.json says {key} {_one_line(run[key])} but bag-info "
                                f"says {tag} {_first(info.get(tag))}")
    return problems


def identity_note(info: Mapping[str, Any]) -> str | None:
    """A line for bundles made before the id was signed (``None`` when bag-info carries Bundle-Id)."""
    if info.get(BUNDLE_ID_TAG):
        return None
    return (f"identity: not signed (the bundle predates identity binding: no {BUNDLE_ID_TAG} in bag-info); "
            "its id was checked against the signed filing, entity, period, run id and times")


def _read_run(data: bytes, name: str = RUN_FILE) -> tuple[dict[str, Any] | None, list[str]]:
    try:
        run = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        return None, [f"{name} is not JSON ({exc})"]
    if not isinstance(run, dict):
        return None, [f"{name} is not a JSON object"]
    return run, []


def _verify(root: Path, public_key_pem: str | None, signature: bool,
            bundle_id: str | None = None) -> list[str]:
    if not (root / "bagit.txt").is_file():
        return [f"{root}: not a bag (no bagit.txt)"]
    try:
        bag = bagit.Bag(str(root))
    except bagit.BagError as exc:
        return [f"not a readable bag: {exc}"]
    problems: list[str] = []
    if not (root / MANIFEST).is_file():
        problems.append(f"missing {MANIFEST}")
    if not (root / TAG_MANIFEST).is_file():
        problems.append(f"missing {TAG_MANIFEST} (the signed file)")
    payload = bag.payload_entries()
    tags = bag.tagfile_entries()
    problems += _check_files(root, payload, "payload")
    problems += _check_files(root, tags, "tag")
    present = {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file() or p.is_symlink()}
    allowed = set(payload) | set(tags) | {TAG_MANIFEST, SIGNATURE_FILE}
    problems += [f"file not in the manifests (added): {rel}" for rel in sorted(present - allowed)]
    problems += [f"{name} is not covered by {TAG_MANIFEST}" for name in _SIGNED_TAG_FILES
                 if (root / name).is_file() and name not in tags]
    oxum = bag.info.get("Payload-Oxum")
    data = [p for p in (root / "data").rglob("*") if p.is_file()] if (root / "data").is_dir() else []
    actual = f"{sum(p.stat().st_size for p in data)}.{len(data)}"
    if not oxum:
        problems.append("bag-info.txt has no Payload-Oxum")
    elif oxum != actual:
        problems.append(f"Payload-Oxum {oxum} but the payload is {actual} (bytes.files)")
    problems += [f"bag-info.txt lacks {name}" for name in REQUIRED_INFO if not bag.info.get(name)]
    if not problems:  # what intact content says it is (a changed file is the finding otherwise)
        run: dict[str, Any] | None = None
        record = next((rel for rel in RECORD_FILES if (root / rel).is_file()), None)
        if record is not None:
            run, bad = _read_run((root / record).read_bytes(), record)
            problems += bad
        problems += check_identity(bag.info, run, bundle_id)
    if signature:
        problems += _check_signature(root, public_key_pem, bag.info)
    if not problems:  # the standard library must agree
        try:
            bag.validate()
        except bagit.BagError as exc:
            details = getattr(exc, "details", None) or [exc]
            problems += [f"bagit: {d}" for d in details]
    return problems


# -------------------------------------------------------------------------------------------- diff


def _plain(value: Any) -> Any:
    """JSON-like normal form: numpy scalars -> Python, tuples -> lists, dates -> ISO text."""
    if hasattr(value, "item") and callable(value.item) and type(value).__module__ == "numpy":
        value = value.item()
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    if isinstance(value, tuple):
        return list(value)
    return value


def _is_nan(x: Any) -> bool:
    return isinstance(x, float) and math.isnan(x)


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return _is_nan(a) and _is_nan(b) if _is_nan(a) or _is_nan(b) else a == b
    return type(a) is type(b) and a == b


def _show(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 80 else text[:77] + "..."


def diff_figures(a: Any, b: Any, path: str = "") -> list[str]:
    """Exact differences between two figures documents, one line each (``key: old → new``).

    Numbers compare by exact value (``1 == 1.0``; NaN equals NaN; booleans are not numbers), lists
    element by element; keys are dotted paths, list items ``[i]``.
    """
    a, b = _plain(a), _plain(b)
    where = path or "(figures)"
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        out: list[str] = []
        for key in sorted(set(a) | set(b), key=str):
            sub = f"{path}.{key}" if path else str(key)
            if key not in b:
                out.append(f"{sub}: removed (was {_show(_plain(a[key]))})")
            elif key not in a:
                out.append(f"{sub}: added ({_show(_plain(b[key]))})")
            else:
                out += diff_figures(a[key], b[key], sub)
        return out
    if isinstance(a, list) and isinstance(b, list):
        out = []
        for i in range(max(len(a), len(b))):
            sub = f"{path}[{i}]"
            if i >= len(b):
                out.append(f"{sub}: removed (was {_show(_plain(a[i]))})")
            elif i >= len(a):
                out.append(f"{sub}: added ({_show(_plain(b[i]))})")
            else:
                out += diff_figures(a[i], b[i], sub)
        return out
    return [] if _same(a, b) else [f"{where}: {_show(a)} → {_show(b)}"]


def _manifest(bag_dir: Path) -> dict[str, str]:
    return {rel: h.get(ALGORITHM, "") for rel, h in bagit.Bag(str(bag_dir)).payload_entries().items()}


def diff_manifests(a: Mapping[str, str], b: Mapping[str, str]) -> list[str]:
    """Files added, removed or changed between two payload manifests (path -> checksum)."""
    out = [f"file removed: {p}" for p in sorted(set(a) - set(b))]
    out += [f"file added: {p}" for p in sorted(set(b) - set(a))]
    out += [f"file changed: {p}" for p in sorted(set(a) & set(b)) if a[p] != b[p]]
    return out


def load_figures(bag_dir: Path) -> Any:
    """The bundled figures (``data/figures/figures.json``)."""
    return json.loads((Path(bag_dir) / FIGURES_FILE).read_text(encoding="utf-8"))


def diff_bags(a_dir: Path, b_dir: Path) -> list[str]:
    """What changed from bag ``a`` to bag ``b``: payload files, then figures."""
    out = diff_manifests(_manifest(a_dir), _manifest(b_dir))
    fa, fb = Path(a_dir) / FIGURES_FILE, Path(b_dir) / FIGURES_FILE
    if fa.is_file() and fb.is_file():
        out += [f"figure {line}" for line in diff_figures(load_figures(a_dir), load_figures(b_dir))]
    return out


# ----------------------------------------------------------------------------------------- archive


def _parse_tags(text: str) -> dict[str, Any]:
    """A BagIt tag file (``Label: value``, indented continuation lines); repeated labels become lists."""
    tags: dict[str, Any] = {}
    label: str | None = None
    for line in text.splitlines():
        if line[:1] in (" ", "\t") and label is not None:
            value = tags[label]
            if isinstance(value, list):
                value[-1] += " " + line.strip()
            else:
                tags[label] = value + " " + line.strip()
            continue
        name, sep, value = line.partition(":")
        if not sep or not name.strip():
            raise ValueError(f"not a tag line: {line[:60]!r}")
        label, value = name.strip(), value.strip()
        if label in tags:
            old = tags[label]
            tags[label] = [*(old if isinstance(old, list) else [old]), value]
        else:
            tags[label] = value
    return tags


def _parse_manifest(text: str) -> dict[str, str]:
    entries: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip():
            continue
        digest, _, rel = line.strip().partition(" ")
        if not rel.strip():
            raise ValueError(f"not a manifest line: {line[:60]!r}")
        entries[rel.strip()] = digest.lower()
    return entries


def check_committed(store: Store, bundle_id: str, public_key_pem: str | None) -> list[str]:
    """Whether a listed bundle may count as filed, read cheaply from the store (a few small files): its
    marker is well-formed (S3), its tag files are listed in the signed tag manifest with matching
    SHA-512, the signature is valid (its form only, without a public key), bag-info has the required
    fields, and ``check_identity`` holds for the id it is listed under. Empty = it counts.
    The payload's checksums are ``verify``'s job."""

    def read(rel: str) -> bytes | None:
        try:
            return store.read(bundle_id, rel)
        except StoreError as exc:
            if "has no file" in str(exc):
                return None
            raise

    try:
        tag_bytes = read(TAG_MANIFEST)
        if tag_bytes is None:
            return [f"not a complete bag: no {TAG_MANIFEST} (the signed file)"]
        try:
            tags = _parse_manifest(tag_bytes.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            return [f"{TAG_MANIFEST} is not a manifest ({exc})"]
        files: dict[str, bytes] = {}
        for rel in _SIGNED_TAG_FILES:
            data = read(rel)
            if data is None:
                return [f"not a complete bag: no {rel}"]
            if rel not in tags:
                return [f"{rel} is not covered by {TAG_MANIFEST}"]
            if hashlib.sha512(data).hexdigest() != tags[rel]:
                return [f"checksum mismatch ({ALGORITHM}): {rel} was changed"]
            files[rel] = data
        if not files["bagit.txt"].startswith(b"BagIt-Version:"):
            return ["bagit.txt is not a BagIt declaration"]
        try:
            info = _parse_tags(files["bag-info.txt"].decode("utf-8"))
            payload = _parse_manifest(files[MANIFEST].decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            return [f"bag-info.txt or {MANIFEST} is not readable ({exc})"]
        problems = [f"bag-info.txt lacks {name}" for name in REQUIRED_INFO if not info.get(name)]
        sig = read(SIGNATURE_FILE)
        if public_key_pem or sig is None:
            problems += signature_problems(sig, tag_bytes, public_key_pem, info)
        elif not _looks_signed(sig):
            problems.append(f"bad signature: {SIGNATURE_FILE} is not an Ed25519 signature")
        run: dict[str, Any] | None = None
        record = next((rel for rel in RECORD_FILES if rel in payload), None)
        if record is not None:
            data = read(record)
            if data is None or hashlib.sha512(data).hexdigest() != payload[record]:
                problems.append(f"{record} is missing or was changed")
            else:
                run, bad = _read_run(data, record)
                problems += bad
        return problems + check_identity(info, run, bundle_id)
    except StoreError as exc:
        return [str(exc)]
    except Exception as exc:  # an object the store lists but cannot serve (S3 client errors)
        code = (getattr(exc, "response", None) or {}).get("Error", {}).get("Code")
        if not code:
            raise
        return [f"a committed file cannot be read from the store ({code})"]


def _looks_signed(signature_file: bytes) -> bool:
    try:
        return len(base64.b64decode(signature_file.strip(), validate=True)) == 64
    except (binascii.Error, ValueError):
        return False


@dataclass(frozen=True)
class Listing:
    """A store's bundles sorted for counting: ``committed`` ids count as filed; ``damaged`` never do."""

    committed: list[str]
    damaged: list[tuple[str, str]]  # (bundle id, the first problem)
    signatures_checked: bool


def list_committed(store: Store, public_key_pem: str | None, filing: str | None = None,
                   entity: str | None = None, period: str | None = None) -> Listing:
    """``store.list`` split into bundles that may count as filed and damaged ones (``check_committed``).
    Without a public key, signatures are checked for form only (``signatures_checked`` is False)."""
    committed: list[str] = []
    damaged: list[tuple[str, str]] = []
    for bundle_id in store.list(filing=filing, entity=entity, period=period):
        problems = check_committed(store, bundle_id, public_key_pem)
        if problems:
            damaged.append((bundle_id, problems[0] if len(problems) == 1
                            else f"{problems[0]} (and {len(problems) - 1} more)"))
        else:
            committed.append(bundle_id)
    return Listing(committed, damaged, bool(public_key_pem))


@dataclass(frozen=True)
class BundleRef:
    """A committed bundle: its id, where the store put it, and what it holds."""

    bundle_id: str
    location: str
    signed: bool
    files: int
    bytes: int


def archive_bundle(staging_dir: Path, bundle_id: str, store: Store, info: Mapping[str, Any],
                   signing: Signing) -> BundleRef:
    """Bag and sign ``staging_dir`` (in place), upload it, commit it; returns the committed bundle.

    Retry-safe: a staging directory already bagged by an earlier, interrupted attempt is uploaded as it
    is if its contents still check out (``check_bag_contents``); otherwise ``BundleError``.
    """
    bag_dir = Path(staging_dir).resolve()
    if (bag_dir / "bagit.txt").is_file():
        problems = check_bag_contents(bag_dir)
        if problems:
            raise BundleError(f"{bag_dir}: bagged by an earlier attempt but no longer intact: "
                              + "; ".join(problems))
        sealed = _first(read_bag_info(bag_dir).get(BUNDLE_ID_TAG))
        if sealed:  # the earlier attempt signed its id: commit under that one, never another
            bundle_id = sealed
    else:
        bag_dir = make_bag(bag_dir, {**info, BUNDLE_ID_TAG: bundle_id}, signing)
    files = [p for p in bag_dir.rglob("*") if p.is_file()]
    if store.exists(bundle_id) and not check_committed(store, bundle_id, None) and \
            store.read(bundle_id, TAG_MANIFEST) == (bag_dir / TAG_MANIFEST).read_bytes():
        location = f"{store.describe()}: {bundle_id}"  # committed by the earlier attempt
    else:
        location = store.put(bundle_id, bag_dir)
    return BundleRef(bundle_id=bundle_id, location=location,
                     signed=(bag_dir / SIGNATURE_FILE).is_file(), files=len(files),
                     bytes=sum(p.stat().st_size for p in files))
