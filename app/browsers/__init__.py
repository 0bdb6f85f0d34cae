"""Readers for the browsers' on-disk stores."""
