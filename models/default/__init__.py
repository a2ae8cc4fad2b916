"""The shipped default model (weights.npz and meta.json), installed as package data."""
