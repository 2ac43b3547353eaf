"""Pure decision logic. Standard library only: no I/O, no clocks, no id generation.

`tests/unit/test_architecture.py` keeps it that way.
"""
