"""Errors raised by the scan readers."""


class ScanError(Exception):
    """Input that cannot be read as an nmap scan at all. The message is one line for users."""
