"""Readers of real emotional speech corpora, as they are distributed."""
