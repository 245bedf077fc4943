"""Model folders: what they are, whether they are complete, their fingerprint, and pulling one.

Import-light on purpose (no torch, no diffusers at import): `installation models check`
and show validation run on machines without the AI extras.

Fingerprint choice: SHA-256 over, for every file in the folder (sorted relative paths),
its path and size, plus the full bytes of small text files (configs, tokenizer files,
< 1 MiB) and the first and last 64 KiB of every larger file. Fast (a few MB read even for
a 7 GB model) and it changes whenever a config, a tokenizer or the weights change in any
realistic way (safetensors headers list every tensor's offsets at the start). mtimes are
left out on purpose: copying a model folder onto the gallery machine must not change it.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from installation.errors import ModelError

WEIGHT_SUFFIXES = (".safetensors", ".bin", ".ckpt", ".pt", ".pth")
SINGLE_FILE_SUFFIXES = (".safetensors", ".ckpt")
# Loaded without them: the engine runs its own safety checker (see safety.py).
OPTIONAL_COMPONENTS = frozenset({"safety_checker", "feature_extractor", "image_encoder"})
_SMALL = 1 << 20
_EDGE = 64 * 1024
_REPO_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")
HUB_TIMEOUT_S = 10


def ensure_offline() -> None:
    """Forbid hub downloads. Must run before huggingface_hub is first imported (read once)."""
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    os.environ.setdefault("DISABLE_TELEMETRY", "1")
    constants = sys.modules.get("huggingface_hub.constants")
    if constants is not None and not getattr(constants, "HF_HUB_OFFLINE", False):
        # Imported too early: flip the flag its session checks (copies made elsewhere stay).
        constants.HF_HUB_OFFLINE = True  # type: ignore[attr-defined]


@dataclass
class ModelReport:
    """What `installation models check` says about a path."""

    path: Path
    kind: str  # "diffusers folder" | "single file" | "missing" | "not a model"
    pipeline_class: str = ""
    family: str = "unknown"  # SD1 | SD2 | SDXL | tiny (SD1 layout) | other | unknown
    present: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # required and absent: fatal
    optional_missing: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    size_bytes: int = 0
    fingerprint: str = ""

    @property
    def complete(self) -> bool:
        return (
            self.kind in ("diffusers folder", "single file")
            and not self.missing
            and not (self.problems)
        )

    def lines(self) -> list[str]:
        """Human-readable report, one fact per line."""
        out = [f"path: {self.path}", f"kind: {self.kind}"]
        if self.pipeline_class:
            out.append(f"pipeline: {self.pipeline_class}")
        out.append(f"family: {self.family}")
        out.append(f"components present: {', '.join(self.present) or '-'}")
        out.append(f"components missing: {', '.join(self.missing) or '-'}")
        if self.optional_missing:
            out.append(f"optional, absent: {', '.join(self.optional_missing)}")
        out += [f"problem: {p}" for p in self.problems]
        out.append(f"size: {self.size_bytes / 1e6:.1f} MB")
        if self.fingerprint:
            out.append(f"fingerprint: {self.fingerprint}")
        out.append("status: " + ("complete" if self.complete else "INCOMPLETE"))
        return out


def looks_like_repo_id(text: str | Path) -> bool:
    """'org/name' with no such local path: someone pasted a hub id instead of a folder."""
    s = str(text)
    return bool(_REPO_ID.match(s)) and not Path(s).exists()


def read_json(path: Path) -> dict[str, object]:
    """A JSON object from a model file, or ModelError naming the file."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ModelError(f"cannot read {path}: {e}") from e
    if not isinstance(data, dict):
        raise ModelError(f"{path} should hold a JSON object, found {type(data).__name__}")
    return data


def _component_problem(folder: Path, name: str, library: str) -> str | None:
    """Why component folder `name` is unusable, or None when it looks complete."""
    sub = folder / name
    if not sub.is_dir():
        return f"{name}/ (folder missing)"
    files = {p.name for p in sub.iterdir()}
    if name.startswith("tokenizer"):
        ok = "tokenizer.json" in files or {"vocab.json", "merges.txt"} <= files
        return None if ok else f"{name}/ (needs vocab.json + merges.txt or tokenizer.json)"
    if name.startswith("scheduler") or name.endswith("_scheduler"):  # low_res_scheduler (x4)
        return None if "scheduler_config.json" in files else f"{name}/scheduler_config.json"
    if name == "feature_extractor":
        return None if "preprocessor_config.json" in files else f"{name}/preprocessor_config.json"
    if "config.json" not in files:
        return f"{name}/config.json"
    if not any(f.endswith(WEIGHT_SUFFIXES) for f in files):
        return f"{name}/ weights (no {' or '.join(WEIGHT_SUFFIXES[:2])} file)"
    return None


def guess_family(folder: Path, pipeline_class: str = "") -> str:
    """SD1 / SD2 / SDXL from the pipeline class and the UNet's cross-attention width."""
    if "XL" in pipeline_class or (folder / "text_encoder_2").is_dir():
        return "SDXL"
    unet = folder / "unet" / "config.json"
    if not unet.is_file():
        return "other" if (folder / "transformer").is_dir() else "unknown"
    try:
        width = read_json(unet).get("cross_attention_dim")
    except ModelError:
        return "unknown"
    return {768: "SD1", 1024: "SD2", 2048: "SDXL"}.get(
        width if isinstance(width, int) else -1,
        "tiny (SD1 layout)" if isinstance(width, int) and width < 768 else "unknown",
    )


def _inspect_folder(report: ModelReport) -> None:
    folder = report.path
    index_path = folder / "model_index.json"
    if not index_path.is_file():
        report.kind = "not a model"
        report.missing.append("model_index.json")
        return
    report.kind = "diffusers folder"
    try:
        index = read_json(index_path)
    except ModelError as e:
        report.problems.append(str(e))
        return
    report.pipeline_class = str(index.get("_class_name", ""))
    for name, spec in sorted(index.items()):
        if name.startswith("_") or not isinstance(spec, list) or len(spec) != 2:
            continue
        if spec[0] is None or spec[1] is None:
            continue  # declared absent by the pipeline itself
        problem = _component_problem(folder, name, str(spec[0]))
        if problem is None:
            report.present.append(name)
        elif name in OPTIONAL_COMPONENTS:
            report.optional_missing.append(problem)
        else:
            report.missing.append(problem)
    report.family = guess_family(folder, report.pipeline_class)


def inspect_model(path: Path, *, fingerprint: bool = True) -> ModelReport:
    """Describe a model folder or single-file checkpoint without loading it."""
    path = Path(path)
    report = ModelReport(path=path, kind="missing")
    if not path.exists():
        report.missing.append(str(path))
        return report
    if path.is_file():
        report.kind = "single file" if path.suffix in SINGLE_FILE_SUFFIXES else "not a model"
        if report.kind == "not a model":
            report.problems.append(
                f"a single-file checkpoint ends in .safetensors or .ckpt: {path}"
            )
    else:
        _inspect_folder(report)
    report.size_bytes = sum(f.stat().st_size for f in _files(path))
    if fingerprint and report.kind != "not a model":
        report.fingerprint = model_fingerprint(path)
    return report


def _files(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    return sorted(p for p in path.rglob("*") if p.is_file() and ".cache" not in p.parts)


def model_fingerprint(path: Path) -> str:
    """Short SHA-256 fingerprint of a model folder or file (see the module docstring)."""
    path = Path(path)
    h = hashlib.sha256()
    root = path.parent if path.is_file() else path
    for f in _files(path):
        size = f.stat().st_size
        h.update(f"{f.relative_to(root).as_posix()}\0{size}\0".encode())
        with f.open("rb") as fh:
            if size <= _SMALL:
                h.update(fh.read())
            else:
                h.update(fh.read(_EDGE))
                fh.seek(size - _EDGE)
                h.update(fh.read(_EDGE))
    return h.hexdigest()[:16]


def require_model(path: Path | None, config_dir: Path | None = None) -> ModelReport:
    """The report for a usable model path, or ModelError saying what is wrong and what to do."""
    if path is None:
        raise ModelError("no model set: set variations.model to a local model folder")
    if looks_like_repo_id(path) and not Path(path).is_absolute():
        raise ModelError(
            f"variations.model = '{path}' looks like a model hub id, not a local path. The show "
            f"never downloads: run `installation models pull {path} --to models/<name>` once "
            "while online, then set variations.model to that folder"
        )
    report = inspect_model(path, fingerprint=False)
    if report.kind == "missing":
        raise ModelError(f"model path does not exist: {path}")
    if report.kind == "single file":
        _require_config_dir(path, config_dir)
    elif report.kind == "not a model":
        raise ModelError(
            f"{path} is not a diffusers model folder (no model_index.json) nor a .safetensors/"
            ".ckpt checkpoint; check it with `installation models check`"
        )
    elif report.missing or report.problems:
        what = "; ".join(report.missing + report.problems)
        raise ModelError(f"model folder {path} is incomplete, missing: {what}")
    return report


def _require_config_dir(path: Path, config_dir: Path | None) -> None:
    if config_dir is None:
        raise ModelError(
            f"single-file checkpoint {path.name} needs variations.model_config_dir: a local "
            "diffusers folder of the same family (its model_index.json and component configs); "
            "without it diffusers would try to download one"
        )
    if not (Path(config_dir) / "model_index.json").is_file():
        raise ModelError(
            f"variations.model_config_dir {config_dir} has no model_index.json; it must be a "
            "diffusers-layout folder of the checkpoint's family"
        )


def pull(
    repo_id: str, dest: Path, *, revision: str | None = None, log: Callable[[str], None] = print
) -> Path:
    """Download a model repo into `dest` (the one command allowed to use the network)."""
    os.environ.setdefault("HF_HUB_ETAG_TIMEOUT", str(HUB_TIMEOUT_S))
    os.environ.setdefault("HF_HUB_DOWNLOAD_TIMEOUT", str(HUB_TIMEOUT_S))
    try:
        from huggingface_hub import snapshot_download
    except ImportError as e:
        raise ModelError(f"huggingface_hub is not installed ({e}): pip install '.[ai]'") from e
    log(f"pulling {repo_id} into {dest} (timeout {HUB_TIMEOUT_S}s per request)")
    try:
        path = snapshot_download(
            repo_id,
            revision=revision,
            local_dir=str(dest),
            # the diffusers layout only: no top-level single-file copies, fp16 or non-EMA extras
            allow_patterns=["*.json", "*.txt", "*/*.safetensors", "*/*.model"],
            ignore_patterns=["*.fp16.*", "*non_ema*"],
        )
    except Exception as e:  # offline, DNS, timeout, 404, auth: one clear message
        if os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes", "on"):
            raise ModelError(
                f"cannot reach the model hub for '{repo_id}': HF_HUB_OFFLINE is set on this "
                "machine; unset it to pull, or copy a model folder onto this machine instead"
            ) from e
        raise ModelError(
            f"cannot reach the model hub for '{repo_id}' ({type(e).__name__}: {_first_line(e)}); "
            "copy a model folder onto this machine instead and set variations.model to it"
        ) from e
    log(f"done: {path}")
    return Path(path)


def _first_line(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    return text[0][:200] if text else ""
