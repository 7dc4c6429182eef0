"""Recipes: each method's phases (pretrain, initialise, cluster, finalise) for the runner."""
