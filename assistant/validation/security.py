"""Static security rules over a DAG file's AST (nothing is imported or run).

These are the rules bandit lacks: what runs at parse time, dynamic-code tricks, download-and-run,
reverse shells, secret exfiltration, writes to sensitive paths and destructive deletes. Bandit's
own rules (eval, exec, pickle, yaml.load, shell=True, ...) run beside these in
:mod:`assistant.validation.bandit_scan`.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

from assistant.validation.names import (
    CATEGORY_TEXT,
    DELETE_METHODS,
    call_category,
    collect_imports,
    constant_strings,
    is_literal,
    joined_text,
    qualified_name,
)
from assistant.validation.shell_patterns import scan_text


@dataclass(frozen=True)
class RawFinding:
    rule: str
    severity: str
    line: int | None
    message: str
    hint: str


DECODERS = re.compile(
    r"(?:b64decode|b32decode|b16decode|a85decode|b85decode|urlsafe_b64decode|decodebytes|unhexlify|fromhex"
    r"|decompress|marshal\.loads|codecs\.decode|rot13|\.decode\(\)\[::-1\]|\[::-1\])"
)
USER_INPUT = re.compile(
    r"\b(?:conf|params|dag_run|request|input|argv|Variable\.get|environ|getenv|xcom_pull)\b"
)
SECRET_SOURCES = re.compile(
    r"os\.environ|os\.getenv|environ\b|getenv|airflow\.configuration|\bconf\.(?:get|as_dict|getsection|items)"
    r"|Variable\.get|\.password\b|get_password|get_uri|\.extra_dejson"
    r"|airflow\.cfg|/proc/self/environ|\.ssh/|\.aws/credentials|fernet|secret_key"
)
SEND_METHODS = re.compile(
    r"(?:^|\.)(?:post|put|patch|send|sendall|sendto|sendmail|send_message|urlopen|upload\w*|storbinary)$"
)
SENSITIVE_PATH = re.compile(
    r"(?:^|/)\.ssh(?:/|$)|authorized_keys|^/etc/|^/etc$|airflow\.cfg|^/root(?:/|$)|\.bashrc|\.bash_profile"
    r"|\.profile$|^/usr/|^/bin/|^/sbin/|/var/spool/cron|sitecustomize|usercustomize|\.pth$|^/proc/|^/sys/"
    r"|\.aws/credentials|\.docker/config\.json|\.kube/config"
)
SECRET_HOLDERS = re.compile(r"get_connection|get_connection_from_secrets|get_hook\(|\bConnection\(")
ROOTISH = {"/", "/*", "~", "~/", "/home", "/root", "/etc", "/usr", "/var", "$HOME"}
DELETE_CALLS = {"shutil.rmtree", "os.removedirs", "os.rmdir", "os.remove", "os.unlink", "shutil.move"}
TASK_DECORATORS = re.compile(r"(?:^|\.)task(?:\.\w+)?$|(?:^|\.)(?:task|setup|teardown)$")


def _decorator_names(func: ast.FunctionDef | ast.AsyncFunctionDef, imports: dict[str, str]) -> list[str]:
    names = []
    for decorator in func.decorator_list:
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        names.append(qualified_name(target, imports) or "")
    return names


def _parse_time_nodes(tree: ast.Module, imports: dict[str, str]) -> list[tuple[ast.AST, str | None]]:
    """Every node that runs while Airflow parses the file, with the local function it runs through.

    Module and class bodies run at parse time; so do decorators, default arguments, and the bodies
    of local functions called at parse time (a ``@dag`` function included), but not ``@task`` bodies.
    """
    functions = {n.name: n for n in tree.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)}
    found: list[tuple[ast.AST, str | None]] = []
    visited: set[str] = set()

    def visit(node: ast.AST, via: str | None) -> None:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            for part in [*getattr(node, "decorator_list", []), *node.args.defaults, *node.args.kw_defaults]:
                if part is not None:
                    visit(part, via)
            return
        found.append((node, via))
        if isinstance(node, ast.Call):
            name = node.func.id if isinstance(node.func, ast.Name) else None
            if name in functions and name not in visited:
                visited.add(name)
                target = functions[name]
                if not any(TASK_DECORATORS.search(d) for d in _decorator_names(target, imports)):
                    for statement in target.body:
                        visit(statement, via or name)
        for child in ast.iter_child_nodes(node):
            visit(child, via)

    for statement in tree.body:
        visit(statement, None)
    return found


class SecurityScanner:
    def __init__(self, tree: ast.Module, source: str) -> None:
        self.tree = tree
        self.source = source
        self.imports = collect_imports(tree)
        self.findings: list[RawFinding] = []
        self._parents: dict[ast.AST, ast.AST] = {}
        self._assignments: dict[str, list[ast.AST]] = {}
        for node in ast.walk(tree):
            if isinstance(node, ast.Assign | ast.AnnAssign) and node.value is not None:
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for target in targets:
                    if isinstance(target, ast.Name):
                        self._assignments.setdefault(target.id, []).append(node.value)
        for parent in ast.walk(tree):
            for child in ast.iter_child_nodes(parent):
                self._parents[child] = parent

    def add(self, rule: str, severity: str, node: ast.AST | int | None, message: str, hint: str) -> None:
        line = node if isinstance(node, int) or node is None else getattr(node, "lineno", None)
        self.findings.append(RawFinding(rule, severity, line, message, hint))

    def scan(self) -> list[RawFinding]:
        self._parse_time()
        for node in ast.walk(self.tree):
            if isinstance(node, ast.Call):
                self._call(node)
            elif isinstance(node, ast.Subscript):
                self._dynamic_subscript(node)
        self._text()
        self._exfiltration()
        return self.findings

    # -- parse time -----------------------------------------------------------------------------

    def _parse_time(self) -> None:
        for node, via in _parse_time_nodes(self.tree, self.imports):
            where = f" (through {via}())" if via else ""
            if isinstance(node, ast.Call):
                category = call_category(node, self.imports)
                if category:
                    kind, name = category
                    self.add(
                        "security.parse-time-side-effect",
                        "block",
                        node,
                        f"{name}() {CATEGORY_TEXT[kind]} while Airflow parses the file{where}",
                        "move it into a task (a @task function or an operator): top-level code runs on every "
                        "parse, in the scheduler's DAG processor",
                    )
            elif isinstance(node, ast.While) and via is None and self._endless(node):
                self.add(
                    "security.parse-time-infinite-loop",
                    "block",
                    node,
                    "a top-level loop never ends: Airflow would hang parsing this file",
                    "bound the loop or move it into a task",
                )

    @staticmethod
    def _endless(loop: ast.While) -> bool:
        always = isinstance(loop.test, ast.Constant) and bool(loop.test.value)
        return always and not any(isinstance(n, ast.Break | ast.Return | ast.Raise) for n in ast.walk(loop))

    # -- calls anywhere -------------------------------------------------------------------------

    def _call(self, call: ast.Call) -> None:
        name = (qualified_name(call.func, self.imports) or "").replace("()", "")
        args = [*call.args, *(k.value for k in call.keywords)]
        if name in {"__import__", "builtins.__import__"}:
            self.add(
                "security.dynamic-import",
                "block",
                call,
                "__import__() hides which module is loaded",
                "use a plain import statement at the top of the file",
            )
        elif name in {"importlib.import_module", "importlib.__import__"} and args and not is_literal(args[0]):
            self.add(
                "security.dynamic-import",
                "block",
                call,
                f"{name}() with a computed module name",
                "import the modules you need by name",
            )
        elif name in {"getattr", "builtins.getattr"} and len(args) >= 2 and not is_literal(args[1]):
            target = qualified_name(args[0], self.imports) or ""
            if target.split(".")[0] in set(self.imports.values()) | {"builtins", "__builtins__", "sys"} or (
                isinstance(args[0], ast.Call)
            ):
                self.add(
                    "security.dynamic-attribute",
                    "block",
                    call,
                    f"getattr() on module {target or 'object'} with a computed name",
                    "call the function by its name so readers (and scanners) can see it",
                )
        elif name in {"eval", "exec", "compile", "builtins.eval", "builtins.exec"} and args:
            self._eval(call, name, args[0])
        elif name in {"os.dup2"} and args and any("fileno" in ast.unparse(a) for a in args[:1]):
            self.add(
                "security.reverse-shell",
                "block",
                call,
                "os.dup2() of a socket onto stdin/stdout",
                "remove it; redirecting a process's streams to a socket is a reverse shell",
            )
        elif name.startswith("pty.spawn"):
            self.add(
                "security.reverse-shell", "block", call, "pty.spawn() opens an interactive shell", "remove it"
            )
        elif name.startswith("socket."):
            self._socket(call, name)
        elif name in {"os.fork", "os.forkpty"} and self._in_loop(call):
            self.add(
                "security.fork-bomb",
                "block",
                call,
                "os.fork() inside a loop",
                "use an operator or a bounded process pool instead of forking",
            )
        self._paths(call, name, args)

    def _eval(self, call: ast.Call, name: str, code: ast.AST) -> None:
        if is_literal(code):
            return
        text = ast.unparse(code) + " " + self._assigned_text(code)
        if DECODERS.search(text):
            self.add(
                "security.decode-exec",
                "block",
                call,
                f"{name}() of a decoded payload (base64/hex/zlib)",
                "put the real code in the file instead of an encoded blob",
            )
        elif USER_INPUT.search(text):
            self.add(
                "security.eval-user-input",
                "block",
                call,
                f"{name}() of run conf, params or other user input",
                "parse the input with json.loads() or ast.literal_eval() instead",
            )

    def _assigned_text(self, node: ast.AST, depth: int = 3) -> str:
        """The source of what was assigned to the names used in ``node``, a few levels deep."""
        names = {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}
        parts: list[str] = []
        seen: set[str] = set()
        for _ in range(depth):
            names -= seen
            if not names:
                break
            seen |= names
            found = [self._assignments.get(name, []) for name in names]
            values = [value for group in found for value in group]
            parts.extend(ast.unparse(v) for v in values)
            names = {n.id for v in values for n in ast.walk(v) if isinstance(n, ast.Name)}
        return " ".join(parts)

    def _socket(self, call: ast.Call, name: str) -> None:
        text = ast.unparse(call)
        if "SOCK_RAW" in text or "AF_PACKET" in text:
            self.add(
                "security.raw-socket",
                "block",
                call,
                "opens a raw socket",
                "use a provider hook or an HTTP client with a connection instead",
            )
        elif name in {"socket.socket", "socket.create_connection", "socket.fromfd"}:
            self.add(
                "security.raw-socket",
                "warn",
                call,
                f"{name}() opens a plain socket",
                "prefer a provider hook or an HTTP client; explain with `# assistant: allow` if needed",
            )

    def _in_loop(self, node: ast.AST) -> bool:
        parent = self._parents.get(node)
        while parent is not None:
            if isinstance(parent, ast.While | ast.For):
                return True
            parent = self._parents.get(parent)
        return False

    def _paths(self, call: ast.Call, name: str, args: list[ast.AST]) -> None:
        category = call_category(call, self.imports)
        texts = [joined_text(a) for a in args] + list(constant_strings(call.func))
        if category and category[0] == "file-write":
            hits = [t for t in texts if SENSITIVE_PATH.search(t.replace("~", "/root"))]
            if hits:
                self.add(
                    "security.sensitive-write",
                    "block",
                    call,
                    f"{name}() writes to {hits[0]!r}",
                    "write only inside the task's own temporary directory",
                )
        is_delete = name in DELETE_CALLS or (
            isinstance(call.func, ast.Attribute) and call.func.attr in DELETE_METHODS
        )
        if is_delete:
            source = ast.unparse(call)
            rootish = any(t.rstrip("/") in {r.rstrip("/") for r in ROOTISH} or t == "/" for t in texts)
            if rootish or "Path.home()" in source or "expanduser('~')" in source or "Path('/')" in source:
                self.add(
                    "security.destructive-delete",
                    "block",
                    call,
                    f"{name}() deletes a system or home directory",
                    "delete only inside the task's own temporary directory",
                )

    def _dynamic_subscript(self, node: ast.Subscript) -> None:
        base = ast.unparse(node.value)
        if base in {
            "globals()",
            "vars()",
            "locals()",
            "sys.modules",
            "__builtins__",
            "builtins.__dict__",
        } and not (is_literal(node.slice)):
            self.add(
                "security.dynamic-attribute",
                "block",
                node,
                f"{base}[...] with a computed key",
                "refer to the object by name",
            )

    # -- literal text and data flow -------------------------------------------------------------

    def _text(self) -> None:
        for node in ast.walk(self.tree):
            if isinstance(node, ast.Constant | ast.JoinedStr | ast.BinOp) and not isinstance(
                self._parents.get(node), ast.JoinedStr | ast.BinOp
            ):
                text = joined_text(node)
                if len(text) < 6 or text == "{}":
                    continue
                for rule, matched in scan_text(text):
                    self.add(rule.rule, "block", node, f"{rule.message}: {matched.strip()[:80]!r}", rule.hint)

    def _exfiltration(self) -> None:
        scopes: list[ast.AST] = [self.tree] + [
            n for n in ast.walk(self.tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)
        ]
        for scope in scopes:
            tainted: set[str] = set()
            holders = {
                n.id
                for node in ast.walk(scope)
                if isinstance(node, ast.Assign) and SECRET_HOLDERS.search(ast.unparse(node.value))
                for t in node.targets
                for n in ast.walk(t)
                if isinstance(n, ast.Name)
            }
            for _ in range(3):  # propagate through a few assignments
                for node in ast.walk(scope):
                    pairs: list[tuple[ast.AST, list[ast.AST]]] = []
                    if (
                        isinstance(node, ast.Assign | ast.AnnAssign | ast.AugAssign)
                        and node.value is not None
                    ):
                        pairs.append(
                            (node.value, node.targets if isinstance(node, ast.Assign) else [node.target])
                        )
                    elif isinstance(node, ast.With | ast.AsyncWith):
                        pairs.extend(
                            (i.context_expr, [i.optional_vars]) for i in node.items if i.optional_vars
                        )
                    elif isinstance(node, ast.For | ast.AsyncFor):
                        pairs.append((node.iter, [node.target]))
                    for value, targets in pairs:
                        if self._secret_like(value, tainted, holders):
                            tainted |= {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}
            for node in ast.walk(scope):
                if not isinstance(node, ast.Call):
                    continue
                name = qualified_name(node.func, self.imports) or ""
                category = call_category(node, self.imports)
                sends = (category and category[0] == "network") or SEND_METHODS.search(name)
                if not sends:
                    continue
                payload = [*node.args, *(k.value for k in node.keywords)]
                if any(self._secret_like(p, tainted, holders) for p in payload):
                    self.add(
                        "security.secret-exfiltration",
                        "block",
                        node,
                        f"{name.replace('()', '')}() sends environment variables, config or credentials",
                        "never send secrets out of a task; let the operator that needs a connection use it",
                    )

    def _secret_like(self, node: ast.AST, tainted: set[str], holders: set[str]) -> bool:
        """Does ``node`` carry a secret: a secret source, a tainted name, or a whole connection object?"""
        text = ast.unparse(node)
        if SECRET_SOURCES.search(text):
            return True
        for name in ast.walk(node):
            if isinstance(name, ast.Name) and name.id in tainted:
                return True
            holder = isinstance(name, ast.Name) and name.id in holders
            if holder and not isinstance(self._parents.get(name), ast.Attribute):
                return True
        return False


def scan_security(tree: ast.Module, source: str) -> list[RawFinding]:
    return SecurityScanner(tree, source).scan()
