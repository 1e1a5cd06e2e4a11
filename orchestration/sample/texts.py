"""What the sample's Claude Code conversations say: prompts, responses, thoughts, file names, summaries,
branches and tool results, JSON-escaped once at import so transcript lines are pasted together unencoded."""

from __future__ import annotations

from orchestration.sample.encoding import escaped

PROMPTS = (
    "fix the failing test in {file}",
    "add retries with backoff around the upload client in {file}",
    "refactor {file} so the parser is testable",
    "warum schlägt der Build auf main fehl? siehe {file}",
    "explain what {file} does and where it is called",
    "write a migration for the new column used in {file}",
    "optimise the query in {file}, it times out",
    "rename the helper in {file} and update all call sites",
    "¿puedes revisar el manejo de errores en {file}?",
    "add type hints to {file} and fix what mypy reports",
)
RESPONSES = (
    "I'll start by reading {file}.",
    "The test fails because the fixture in {file} is created twice.",
    "Done: the retry in {file} now backs off exponentially.",
    "Die Ursache ist ein fehlender Import in {file}.",
    "I updated the call sites of {file} and ran the tests: all green.",
    "Here is a summary of the change to {file}.",
)
THOUGHTS = ("The user wants {file} changed; check its callers first.", "Tests for {file} live next to it.")
SOURCE_FILES = (
    "src/app.py",
    "src/api/handlers.py",
    "src/core/models.py",
    "tests/test_api.py",
    "README.md",
    "src/lib/parser.ts",
    "src/components/Table.tsx",
    "firmware/motor.c",
    "Makefile",
    "docs/index.md",
)
SUMMARIES = (
    "Fix flaky invoice test",
    "Retry uploads with backoff",
    "Parser refactor",
    "Build failure on main",
    "Query timeout investigation",
)
BRANCHES = ("main", "main", "main", "develop", "feature/invoice-rounding", "fix/retry-backoff", "ci-cache")
TOOL_RESULT_LINES = (1, 4, 12, 40, 120, 250)  # lines of a file a tool call returns
TOOL_RESULT_LINE_WEIGHTS = (20, 25, 25, 18, 9, 3)


def _code_lines(count: int) -> str:
    lines = [
        f'def handler_{i}(request):  # größe "{i}"\n    return respond(request, status=200, body="\\t{i}")'
        for i in range(count)
    ]
    return "\n".join(lines)


# Content texts, JSON-escaped once: the writer pastes them into lines without per-line encoding.
PROMPT_TEXTS = tuple(escaped(p.format(file=f)) for p in PROMPTS for f in SOURCE_FILES)
RESPONSE_TEXTS = tuple(escaped(r.format(file=f)) for r in RESPONSES for f in SOURCE_FILES)
THOUGHT_TEXTS = tuple(escaped(t.format(file=f)) for t in THOUGHTS for f in SOURCE_FILES)
TOOL_RESULTS = tuple((escaped(_code_lines(n)), len(_code_lines(n)) // 4) for n in TOOL_RESULT_LINES)
