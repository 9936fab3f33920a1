"""Rules over the literal text of a DAG: shell commands in BashOperator strings, subprocess
arguments, inline scripts. Each pattern names the rule it proves."""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class TextRule:
    rule: str
    pattern: re.Pattern[str]
    message: str
    hint: str


_SHELLS = r"(?:sudo\s+)?(?:/\S*/)?(?:ba|z|k|da|fi)?sh\b|python[0-9.]*\b|perl\b|ruby\b|php\b|node\b"
_DESTRUCTIVE_TARGET = (
    r"(?:/|/\*|~/?\*?|\$\{?HOME\}?/?\*?|/(?:etc|usr|var|home|root|boot|bin|lib|opt|srv)/?\*?)"
)
_SECRET_VAR = r"\$\{?\w*(?:KEY|TOKEN|SECRET|PASSW|PASS\b|CREDENTIAL|AUTH)\w*\}?"

TEXT_RULES: tuple[TextRule, ...] = (
    TextRule(
        "security.download-exec",
        re.compile(
            rf"\b(?:curl|wget|fetch)\b[^|;&\n]*\|\s*(?:{_SHELLS})"
            r"|\b(?:ba)?sh\s+(?:-c\s+)?[\"']?\$\(\s*(?:curl|wget)\b"
            r"|\b(?:ba)?sh\s+<\(\s*(?:curl|wget)\b"
            r"|\b(?:curl|wget)\b[^;&\n]*(?:-o|-O|>)\s*\S+\s*(?:&&|;)\s*(?:chmod\s+\+x|(?:ba)?sh\s|\./)"
            r"|base64\s+(?:-d|--decode)[^|\n]*\|\s*(?:ba)?sh\b",
            re.IGNORECASE,
        ),
        "downloads code and runs it (curl … | sh)",
        "vendor the script into the repository, review it and call it explicitly",
    ),
    TextRule(
        "security.reverse-shell",
        re.compile(
            r"/dev/(?:tcp|udp)/"
            r"|\bnc(?:at)?\b[^\n|;]*\s-\w*[ec]\s"
            r"|\bsocat\b[^\n]*\bexec:"
            r"|\b(?:ba)?sh\s+-i\s*[<>]&"
            r"|\bmkfifo\b[^\n]*\bnc\b"
            r"|pty\.spawn\("
            r"|socket\.socket\([^)]*\)[^\n]*\.connect\(",
            re.IGNORECASE,
        ),
        "opens a reverse shell or an interactive shell over a socket",
        "remove it; a DAG task has no reason to hand a shell to a remote host",
    ),
    TextRule(
        "security.destructive-delete",
        re.compile(
            rf"\brm\s+(?:-{{1,2}}[\w-]+\s+)*-\w*[rR]\w*\s+(?:-{{1,2}}[\w-]+\s+)*[\"']?{_DESTRUCTIVE_TARGET}[\"']?(?:\s|$|;|&|\|)"
            r"|--no-preserve-root|\bmkfs(?:\.\w+)?\s+/dev/|\bdd\b[^\n]*\bof=/dev/(?:sd|nvme|xvd|vd|hd)",
            re.IGNORECASE,
        ),
        "deletes or overwrites a system or home directory",
        "delete only inside the task's own temporary directory (tempfile.mkdtemp())",
    ),
    TextRule(
        "security.sensitive-write",
        re.compile(
            r"(?:>>?|\btee\s+(?:-a\s+)?|\bcp\s+\S+\s+|\bmv\s+\S+\s+|\bchmod\s+\S+\s+)\s*[\"']?"
            r"(?:(?:~|\$\{?HOME\}?|/root|/home/[^/\s]+)/\.(?:ssh|bashrc|profile|bash_profile|aws|config/autostart)"
            r"|/etc/|/usr/|/bin/|/var/spool/cron|\S*airflow\.cfg)"
            r"|\bcrontab\s+-(?!l)"
            r"|authorized_keys",
            re.IGNORECASE,
        ),
        "writes to a sensitive location (ssh keys, /etc, shell profiles, airflow.cfg, cron)",
        "write only inside the task's own temporary directory",
    ),
    TextRule(
        "security.secret-exfiltration",
        re.compile(
            r"\b(?:env|printenv|set|export\s+-p)\b\s*\|\s*(?:curl|wget|nc|ncat|socat)\b"
            rf"|\b(?:curl|wget)\b[^\n]*(?:{_SECRET_VAR}|airflow\.cfg|\.aws/credentials|/proc/self/environ|\.ssh/id_)"
            r"|\bcat\b[^\n|]*(?:airflow\.cfg|\.aws/credentials|/proc/self/environ|\.ssh/id_\w+)[^\n]*\|\s*(?:curl|wget|nc)\b"
            r"|\{\{\s*conn\.[\w]+\.(?:password|get_uri\(\))[^\n]*\}\}[^\n]*\b(?:curl|wget|nc)\b"
            r"|\b(?:curl|wget|nc)\b[^\n]*\{\{\s*conn\.[\w]+\.(?:password|get_uri\(\))",
            re.IGNORECASE,
        ),
        "sends environment variables, Airflow config or credentials over the network",
        "never send secrets out of a task; use an Airflow connection inside the operator that needs it",
    ),
)


def scan_text(text: str) -> list[tuple[TextRule, str]]:
    """(rule, matched text) for every pattern found in ``text``."""
    return [(rule, match.group(0)) for rule in TEXT_RULES for match in rule.pattern.finditer(text)]
