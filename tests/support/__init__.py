"""Helpers shared by the test suites: loopback servers and database set-up."""
