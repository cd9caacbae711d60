"""musebench: an evaluation and benchmarking harness for text-to-image models.

See docs/architecture.md for the parts and the contracts between them.
"""

__version__ = "0.1.0"
