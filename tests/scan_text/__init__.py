"""Tests of the nmap normal-output reader (advisor.scan.text)."""
