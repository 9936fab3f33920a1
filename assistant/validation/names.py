"""Resolving what a call in a DAG file really calls, and sorting calls into risk categories.

``import subprocess as sp; sp.run(...)`` and ``from os import system; system(...)`` both resolve
to their full dotted names, so the rules look at ``subprocess.run`` and ``os.system``.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

# category -> (exact names, prefixes); prefixes end with "."
CATEGORIES: dict[str, tuple[frozenset[str], tuple[str, ...]]] = {
    "process": (
        frozenset(
            {"os.system", "os.popen", "pty.spawn", "os.posix_spawn", "os.posix_spawnp", "commands.getoutput"}
        ),
        (
            "subprocess.",
            "_posixsubprocess.",
            "os.exec",
            "os.spawn",
            "asyncio.create_subprocess_",
            "sh.",
            "pexpect.",
        ),
    ),
    "network": (
        frozenset({"urllib.urlopen", "urllib2.urlopen"}),
        (
            "socket.",
            "urllib.request.",
            "requests.",
            "httpx.",
            "http.client.",
            "aiohttp.",
            "ftplib.",
            "smtplib.",
            "telnetlib.",
            "paramiko.",
            "urllib3.",
            "pycurl.",
        ),
    ),
    "eval": (
        frozenset({"eval", "exec", "compile", "builtins.eval", "builtins.exec", "builtins.compile"}),
        (),
    ),
    "ctypes": (frozenset(), ("ctypes.", "cffi.")),
    "fork": (
        frozenset({"os.fork", "os.forkpty", "multiprocessing.Process", "multiprocessing.Pool"}),
        ("multiprocessing.pool.", "multiprocessing.get_context", "concurrent.futures.ProcessPool"),
    ),
    "pickle": (
        frozenset({"marshal.load", "marshal.loads", "shelve.open", "joblib.load"}),
        ("pickle.load", "cPickle.load", "dill.load", "cloudpickle.load", "_pickle.load"),
    ),
    "dynamic-import": (
        frozenset(
            {
                "__import__",
                "importlib.import_module",
                "importlib.__import__",
                "imp.load_source",
                "imp.load_module",
            }
        ),
        ("importlib.util.spec_from", "importlib.machinery.", "runpy.", "zipimport."),
    ),
    "delete": (
        frozenset({"shutil.rmtree", "os.remove", "os.unlink", "os.rmdir", "os.removedirs", "shutil.move"}),
        (),
    ),
}
CATEGORY_TEXT = {
    "process": "starts a process or shell",
    "network": "uses the network",
    "file-write": "writes a file",
    "eval": "evaluates dynamic code",
    "ctypes": "calls native code through ctypes",
    "fork": "forks the process",
    "pickle": "deserialises with pickle/marshal",
    "dynamic-import": "imports a module dynamically",
    "delete": "deletes files",
}
WRITE_METHODS = frozenset({"write_text", "write_bytes", "symlink_to", "hardlink_to", "chmod", "touch"})
DELETE_METHODS = frozenset({"unlink", "rmdir"})


def collect_imports(tree: ast.Module) -> dict[str, str]:
    """alias -> full dotted name, for every import anywhere in the file."""
    names: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    names[alias.asname] = alias.name
                else:
                    top = alias.name.split(".")[0]
                    names[top] = top
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                names[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    return names


def qualified_name(node: ast.AST, imports: dict[str, str]) -> str | None:
    """The dotted name an expression refers to (``sp.run`` -> ``subprocess.run``), if it has one."""
    if isinstance(node, ast.Name):
        return imports.get(node.id, node.id)
    if isinstance(node, ast.Attribute):
        base = qualified_name(node.value, imports)
        return f"{base}.{node.attr}" if base else f"?.{node.attr}"
    if isinstance(node, ast.Call):
        # os.popen(...).read(), requests.Session().post(...): the object comes from a call
        base = qualified_name(node.func, imports)
        return f"{base}()" if base else None
    return None


def call_category(call: ast.Call, imports: dict[str, str]) -> tuple[str, str] | None:
    """(category, called name) of a risky call, or None."""
    name = qualified_name(call.func, imports)
    if name is None:
        return None
    plain = name.replace("()", "")
    for category, (exact, prefixes) in CATEGORIES.items():
        if plain in exact or any(plain.startswith(p) for p in prefixes):
            return category, plain
    if plain in {"open", "io.open", "codecs.open"} and _opens_for_write(call):
        return "file-write", plain
    if plain == "os.open" and any(_mentions(a, ("O_WRONLY", "O_RDWR", "O_CREAT")) for a in call.args[1:]):
        return "file-write", plain
    if isinstance(call.func, ast.Attribute) and call.func.attr in WRITE_METHODS:
        return "file-write", plain
    if plain.startswith(("shutil.copy", "os.rename", "os.replace", "os.symlink", "os.chmod", "os.makedirs")):
        return "file-write", plain
    return None


def _opens_for_write(call: ast.Call) -> bool:
    mode: ast.AST | None = call.args[1] if len(call.args) > 1 else None
    for keyword in call.keywords:
        if keyword.arg == "mode":
            mode = keyword.value
    if mode is None:
        return False
    if isinstance(mode, ast.Constant) and isinstance(mode.value, str):
        return any(c in mode.value for c in "wax+")
    return True  # a computed mode: assume the worst


def _mentions(node: ast.AST, names: tuple[str, ...]) -> bool:
    return any(
        isinstance(n, ast.Attribute | ast.Name) and getattr(n, "attr", getattr(n, "id", "")) in names
        for n in ast.walk(node)
    )


def constant_strings(node: ast.AST) -> Iterator[str]:
    """Every string literal inside ``node`` (f-string parts included)."""
    for child in ast.walk(node):
        if isinstance(child, ast.Constant) and isinstance(child.value, str | bytes):
            value = child.value
            yield value.decode("latin-1") if isinstance(value, bytes) else value


def joined_text(node: ast.AST) -> str:
    """The literal parts of an expression joined, with ``{}`` for computed parts (f-strings, +)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(v.value if isinstance(v, ast.Constant) else "{}" for v in node.values)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return joined_text(node.left) + joined_text(node.right)
    return "{}"


def is_literal(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and isinstance(node.value, str | bytes | int | float)
