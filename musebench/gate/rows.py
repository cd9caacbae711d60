"""The results row now lives in musebench.results.schema (one home for the format); this module
re-exports it for the gate modules that still import it from here."""

from musebench.results.schema import ResultRow, format_params, parse_row, parse_rows, read_jsonl

__all__ = ["ResultRow", "format_params", "parse_row", "parse_rows", "read_jsonl"]
