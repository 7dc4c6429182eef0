"""Clients for a running TF Serving (REST and gRPC), and a local REST stand-in for tests."""
