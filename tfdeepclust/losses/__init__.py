"""Losses as pure functions of tensors, one per equation, each tested against a hand value."""
