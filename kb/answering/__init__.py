"""Answering: retrieve → condense a follow-up → refuse or compose → verify citations → stream."""
