"""What a torch.save file holds (names, shapes, dtypes), read without importing torch.

`torch.load(weights_only=True)` costs the ~0.5 GB `import torch` before it can refuse a file (issue
23), so preflight reads the pickle here first. The format is torch.save's zip archive
(torch/serialization.py `_save`, `_load`): `<root>/data.pkl` is a protocol-2 pickle whose tensors
are `torch._utils._rebuild_tensor_v2(storage, offset, size, stride, requires_grad, hooks)` calls and
whose storages are persistent ids `('storage', torch.FloatStorage, key, location, numel)` naming the
record `<root>/data/<key>`.

The pickle is read by a `pickle.Unpickler` whose `find_class` allows only what torch's weights-only
unpickler allows for a plain state dict (torch/_weights_only_unpickler.py `_get_allowed_globals`),
each mapped to a harmless placeholder: a tensor becomes `Tensor(shape, dtype)`, nothing of torch's
runs. Any other global is refused with torch's own words (`Unsupported global: GLOBAL io.open ...`).
Globals torch allows that a state dict of plain tensors never holds (quantized, sparse, nested and
subclass rebuilds) and legacy (pre-1.6, non-zip) files raise `Undecided`: the caller asks torch.
Python's unpickler reads a few opcodes torch's own interpreter does not (protocol 4 framing); such
a file passes here and torch.load refuses it at load, still in one line (weights_file.py).
"""

from __future__ import annotations

import _compat_pickle
import io
import pickle
import zipfile
from collections import Counter, OrderedDict
from dataclasses import dataclass
from pathlib import Path

# torch.storage._dtype_to_storage_type_map(), reversed: the storage class names torch.save writes.
STORAGE_DTYPES = {
    "DoubleStorage": ("float64", 8), "FloatStorage": ("float32", 4), "HalfStorage": ("float16", 2),
    "LongStorage": ("int64", 8), "IntStorage": ("int32", 4), "ShortStorage": ("int16", 2), "CharStorage": ("int8", 1),
    "ByteStorage": ("uint8", 1), "BoolStorage": ("bool", 1), "BFloat16Storage": ("bfloat16", 2),
    "ComplexDoubleStorage": ("complex128", 16), "ComplexFloatStorage": ("complex64", 8),
}  # fmt: skip
# Allowed by torch's weights-only unpickler but never in a state dict of plain tensors: torch decides.
DEFERRED = {
    "torch._utils._rebuild_parameter_with_state", "torch._utils._rebuild_qtensor", "torch._utils._rebuild_tensor_v3",
    "torch._utils._rebuild_sparse_tensor", "torch._utils._rebuild_meta_tensor_no_storage",
    "torch._utils._rebuild_nested_tensor", "torch._utils._rebuild_wrapper_subclass",
    "torch._utils._rebuild_device_tensor_from_numpy", "torch._utils._rebuild_device_tensor_from_cpu_tensor",
    "torch._tensor._rebuild_from_type_v2", "torch.Tensor", "torch.serialization._get_layout",
    "torch.nested._internal.nested_tensor.NestedTensor", "torch.nested._internal.nested_tensor._rebuild_njt",
}  # fmt: skip
BLOCKED_MODULES = ("sys", "os", "posix", "nt")  # torch's _blocklisted_modules


class Undecided(Exception):
    """A file this reader does not model; torch.load(weights_only=True) must decide."""


class Refused(Exception):
    """What torch.load(weights_only=True) would refuse. `blocked` holds torch's GLOBAL line when the
    pickle needs code; otherwise `reason` says what is broken."""

    def __init__(self, reason: str, blocked: str | None = None) -> None:
        super().__init__(reason)
        self.reason, self.blocked = reason, blocked


@dataclass(frozen=True)
class Tensor:
    """A tensor of the file: its shape and dtype, no data."""

    shape: tuple[int, ...]
    dtype: str


@dataclass(frozen=True)
class Storage:
    """A persistent id ('storage', type, key, location, numel): the record data/<key>."""

    dtype: str
    itemsize: int
    key: str
    numel: int


class StorageType:
    def __init__(self, name: str) -> None:
        self.dtype, self.itemsize = STORAGE_DTYPES[name]


class device(str):  # noqa: N801 (torch.device's name, for "key 'x' holds device")
    def __new__(cls, *args):
        return str.__new__(cls, ":".join(str(a) for a in args))


class dtype(str):  # noqa: N801
    pass


def _rebuild_tensor(storage, offset, size, stride, *rest) -> Tensor:
    if not isinstance(storage, Storage) or not all(isinstance(d, int) and d >= 0 for d in (*size, *stride, offset)):
        raise Refused("a tensor whose storage or sizes are not a tensor's")
    last = offset + sum((n - 1) * s for n, s in zip(size, stride)) if all(size) else -1
    if last >= storage.numel:  # torch's set_() refuses a view beyond its storage
        raise Refused(f"a tensor of shape {tuple(size)} beyond its storage of {storage.numel} elements")
    return Tensor(tuple(size), storage.dtype)


def _rebuild_parameter(data, requires_grad=False, hooks=None) -> Tensor:
    return data


def _allowed() -> dict[str, object]:
    """torch's allowlist for plain tensors and containers, as placeholders."""
    rc: dict[str, object] = {
        "collections.OrderedDict": OrderedDict, "collections.Counter": Counter, "torch.Size": tuple,
        "torch.device": device, "_codecs.encode": lambda text, encoding="latin1": text.encode(encoding),
        "builtins.bytearray": bytearray, "builtins.set": set, "builtins.complex": complex,
        "torch._utils._rebuild_tensor": _rebuild_tensor, "torch._utils._rebuild_tensor_v2": _rebuild_tensor,
        "torch._utils._rebuild_parameter": _rebuild_parameter, "torch.nn.parameter.Parameter": _rebuild_parameter,
    }  # fmt: skip
    rc.update({f"torch.{name}": StorageType(name) for name in STORAGE_DTYPES})
    rc.update({f"torch.{name}": dtype(name) for name, _ in STORAGE_DTYPES.values()})
    return rc


ALLOWED = _allowed()


class _Unpickler(pickle.Unpickler):
    storages: list[Storage]

    def find_class(self, module: str, name: str):
        if (module, name) in _compat_pickle.NAME_MAPPING:  # torch._utils.NAME_MAPPING: Python 2 names
            module, name = _compat_pickle.NAME_MAPPING[(module, name)]
        module = _compat_pickle.IMPORT_MAPPING.get(module, module)
        full = f"{module}.{name}"
        if full in ALLOWED:
            return ALLOWED[full]
        if full in DEFERRED or full.startswith(("torch.distributed.", "torch._dynamo.")) or _torch_global(module, name):
            raise Undecided(full)
        raise Refused("its pickle needs code", _refusal(module, full))

    def persistent_load(self, pid):
        if not (isinstance(pid, tuple) and len(pid) >= 5 and pid[0] in ("storage", b"storage")):
            raise Refused(f"a persistent id that is not a storage ({type(pid).__name__})")
        kind, key, numel = pid[1], pid[2], pid[4]
        if not isinstance(kind, StorageType) or not isinstance(numel, int):
            raise Refused("a storage of an unknown type")
        storage = Storage(kind.dtype, kind.itemsize, str(key), numel)
        self.storages.append(storage)
        return storage


def _torch_global(module: str, name: str) -> bool:
    """Tensor classes, quantization schemes and newer dtypes torch also allows (torch.FloatTensor, torch.uint4...)."""
    return module == "torch" and (name.endswith(("Tensor", "Storage")) or name.startswith(("per_", "uint", "int", "float", "qu", "qi")))


def _refusal(module: str, full: str) -> str:
    """torch's own line for a global it refuses (torch/_weights_only_unpickler.py Unpickler.load)."""
    if module in BLOCKED_MODULES:
        return f"Trying to load unsupported GLOBAL {full} whose module {module} is blocked."
    shown = full[len("builtins."):] if full.startswith("builtins.") else full
    return (f"WeightsUnpickler error: Unsupported global: GLOBAL {shown} was not an allowed global by default. "
            f"Please use `torch.serialization.add_safe_globals([{shown}])` or the "
            f"`torch.serialization.safe_globals([{shown}])` context manager to allowlist this global "
            "if you trust this class/function.")


def unpickle(data: bytes) -> tuple[object, list[Storage]]:
    """(the pickle's object with Tensor placeholders, the storages it names); Refused or Undecided otherwise."""
    unpickler = _Unpickler(io.BytesIO(data))
    unpickler.storages = []
    try:
        return unpickler.load(), unpickler.storages
    except (Refused, Undecided):
        raise
    except Exception as exc:  # a garbled pickle fails anywhere: UnpicklingError, EOFError, KeyError, TypeError...
        raise Refused(f"{type(exc).__name__}: {exc}") from None


def read_pth(path: Path) -> object:
    """The object a torch.save file holds, tensors as Tensor(shape, dtype); reads data.pkl only."""
    with open(path, "rb") as f:
        head = f.read(4)
    if not head.startswith(b"PK"):
        return _read_legacy(path)
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
            pkl = next((n for n in names if n.endswith("/data.pkl") and n.count("/") == 1), None)
            if pkl is None:
                raise Refused("no data.pkl record")
            root = pkl[: -len("data.pkl")]
            sizes = {i.filename: i.file_size for i in archive.infolist()}
            obj, storages = unpickle(archive.read(pkl))
    except zipfile.BadZipFile as exc:  # no end record: a cut file, in torch's words (caffe2 inline_container.cc)
        reason = "failed finding central directory" if "not a zip file" in str(exc) else str(exc)
        raise Refused(f"PytorchStreamReader failed reading zip archive: {reason}") from None
    except (OSError, EOFError, ValueError) as exc:  # a cut record
        raise Refused(f"{type(exc).__name__}: {exc}") from None
    for storage in storages:
        record = f"{root}data/{storage.key}"
        if sizes.get(record, -1) < storage.numel * storage.itemsize:
            raise Refused(f"record {record} is missing or shorter than its {storage.numel} elements")
    return obj


def _read_legacy(path: Path) -> object:
    """A pre-zip torch.save file starts with a pickled magic number (torch/serialization.py
    MAGIC_NUMBER); torch reads those, so they are Undecided here. Anything else torch refuses."""
    with open(path, "rb") as f:
        head = f.read(64)
    magic, _ = unpickle(head)
    if magic == 0x1950A86A20F9469CFC6C:
        raise Undecided("legacy torch.save file")
    raise Refused("Invalid magic number; corrupt file?")
