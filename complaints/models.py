"""Complaints: built by a later issue; an empty shell for now."""
