"""entityforge: a PostgreSQL database layer generated from one spec file."""

__version__ = "0.1.0"
